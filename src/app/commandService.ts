// The application's write side as the API and gateway see it: one method per user intent. The
// implementation (commandHandler.ts) loads state, runs the pure deciders and appends with optimistic
// concurrency; callers only see results or a CommandRejectedError with a stable domain code.
import type { MemberRole, MessageBody, MessageKind } from '../domain/events.js';

export interface RequestContext {
  actorId: string;
  deviceId?: string;
  correlationId?: string;
}

export interface SendMessageInput {
  clientMsgId: string;
  kind: MessageKind;
  body: MessageBody;
}

export interface SendMessageResult {
  messageId: string;
  seq: number;
  sentAt: string;
  /** true when this was a retry of an already stored send (the API answers 200 instead of 201). */
  duplicate: boolean;
}

export interface CommandService {
  openDirect(ctx: RequestContext, peerId: string): Promise<{ conversationId: string; created: boolean }>;
  createGroup(ctx: RequestContext, input: { name: string; memberIds: string[] }): Promise<{ conversationId: string; seq: number }>;
  renameGroup(ctx: RequestContext, conversationId: string, name: string): Promise<{ seq: number }>;
  addMembers(ctx: RequestContext, conversationId: string, userIds: string[]): Promise<{ seq: number }>;
  removeMember(ctx: RequestContext, conversationId: string, userId: string): Promise<{ seq: number }>;
  leaveGroup(ctx: RequestContext, conversationId: string): Promise<{ seq: number }>;
  changeRole(ctx: RequestContext, conversationId: string, userId: string, role: MemberRole): Promise<{ seq: number }>;
  dissolveGroup(ctx: RequestContext, conversationId: string): Promise<{ seq: number }>;
  sendMessage(ctx: RequestContext, conversationId: string, input: SendMessageInput): Promise<SendMessageResult>;
  editMessage(ctx: RequestContext, conversationId: string, messageId: string, body: MessageBody): Promise<{ seq: number; editedAt: string }>;
  recallMessage(ctx: RequestContext, conversationId: string, messageId: string): Promise<{ seq: number; recalledAt: string }>;
  /** Returns the read mark in force afterwards (unchanged for a stale mark, clamped for one past the end). */
  markRead(ctx: RequestContext, conversationId: string, seq: number): Promise<{ seq: number }>;
  changeSettings(
    ctx: RequestContext,
    conversationId: string,
    settings: { muted?: boolean; pinned?: boolean; hidden?: boolean },
  ): Promise<void>;
}

/** A command the domain refused; `code` is one of the domain error catalogue's codes. */
export class CommandRejectedError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}
