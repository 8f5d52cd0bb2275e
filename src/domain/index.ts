// The public surface of Missive's pure domain: events, stream names, ids, limits, error codes and the
// two deciders. Other layers import from here (or from the individual modules); nothing here does I/O.
export * from './events.js';
export * from './streams.js';
export * from './errors.js';
export * from './limits.js';
export * from './ids.js';
export { MESSAGE_KINDS, isMessageKind, checkMessageBody, checkBodyForKind, utf8ByteLength } from './messageBody.js';
export { MEMBER_ROLES, isMemberRole, normalizeGroupName } from './commandValidation.js';
export { RecentMessages, type RecentMessage } from './recentMessages.js';
export { MemberRoster } from './memberRoster.js';
export * from './conversation.js';
export * from './user.js';
