// Group management: create, rename, add and remove members, leave, change a member's role, dissolve.
// Who may do what is the domain's decision; every change answers the seq of the event it recorded.
import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { RouteContext } from '../routeContext.js';
import { requestContext } from '../plugins/auth.js';
import { routeSchema } from '../routeSchema.js';
import { Closed, ConversationId, ConversationParams, MemberParams, MemberRole, NoQuery, Seq, UserId } from '../schemas/primitives.js';
import type { TypeBoxProvider } from '../validation.js';

const TAGS = ['groups'];
/** One request adds at most this many users (the domain has its own, configurable, group size limit). */
export const MAX_MEMBERS_PER_REQUEST = 1000;

const GroupName = Type.String({ minLength: 1, maxLength: 128, description: '1 to 128 characters after trimming' });
const UserIds = (description: string) => Type.Array(UserId(), { minItems: 1, maxItems: MAX_MEMBERS_PER_REQUEST, uniqueItems: true, description });
const Changed = Type.Object({ seq: Seq('The seq of the event recorded') });

export const groupRoutes =
  ({ deps }: RouteContext): FastifyPluginAsync =>
  async (instance) => {
    const app = instance.withTypeProvider<TypeBoxProvider>();
    const { commands } = deps;

    app.post(
      '/groups',
      {
        schema: routeSchema({
          summary: 'Create a group; you become its owner',
          tags: TAGS,
          querystring: NoQuery,
          body: Closed({
            name: GroupName,
            memberIds: Type.Array(UserId(), { maxItems: MAX_MEMBERS_PER_REQUEST, uniqueItems: true, description: 'The other initial members (you are added)' }),
          }),
          response: { 201: Type.Object({ conversationId: ConversationId, seq: Seq('1: the GroupCreated event') }) },
        }),
      },
      async (request, reply) => reply.code(201).send(await commands.createGroup(requestContext(request), request.body)),
    );

    app.patch(
      '/groups/:id',
      {
        schema: routeSchema({
          summary: 'Rename a group (owner or admin)',
          tags: TAGS,
          params: ConversationParams,
          querystring: NoQuery,
          body: Closed({ name: GroupName }),
          response: { 200: Changed },
        }),
      },
      async (request) => commands.renameGroup(requestContext(request), request.params.id, request.body.name),
    );

    app.post(
      '/groups/:id/members',
      {
        schema: routeSchema({
          summary: 'Add members (owner or admin)',
          tags: TAGS,
          params: ConversationParams,
          querystring: NoQuery,
          body: Closed({ userIds: UserIds('Users to add; those already members are skipped') }),
          response: { 200: Changed },
        }),
      },
      async (request) => commands.addMembers(requestContext(request), request.params.id, request.body.userIds),
    );

    app.delete(
      '/groups/:id/members/:userId',
      {
        schema: routeSchema({
          summary: 'Remove a member (owner, or admin removing a plain member)',
          tags: TAGS,
          params: MemberParams,
          querystring: NoQuery,
          response: { 200: Changed },
        }),
      },
      async (request) => commands.removeMember(requestContext(request), request.params.id, request.params.userId),
    );

    app.put(
      '/groups/:id/members/:userId/role',
      {
        schema: routeSchema({
          summary: "Set a member's role (owner only; giving `owner` transfers ownership and makes you an admin)",
          description: 'PUT: the request states the role the member should have. Setting the role they already have answers 409 no_change.',
          tags: TAGS,
          params: MemberParams,
          querystring: NoQuery,
          body: Closed({ role: MemberRole }),
          response: { 200: Changed },
        }),
      },
      async (request) => commands.changeRole(requestContext(request), request.params.id, request.params.userId, request.body.role),
    );

    app.post(
      '/groups/:id/leave',
      {
        schema: routeSchema({
          summary: 'Leave a group (a leaving owner hands ownership to the longest-standing admin, else member)',
          tags: TAGS,
          params: ConversationParams,
          querystring: NoQuery,
          response: { 200: Changed },
        }),
      },
      async (request) => commands.leaveGroup(requestContext(request), request.params.id),
    );

    app.delete(
      '/groups/:id',
      {
        schema: routeSchema({
          summary: 'Dissolve a group (owner); it then accepts nothing',
          tags: TAGS,
          params: ConversationParams,
          querystring: NoQuery,
          response: { 200: Changed },
        }),
      },
      async (request) => commands.dissolveGroup(requestContext(request), request.params.id),
    );
  };
