// The read side of the projections in one place, for the API, the gateway and the tests.
export { getMemberIdsOf, getMembers, isMember, listMemberConversationIds } from './membership/membershipQueries.js';
export { getHistory, type HistoryQuery } from './timeline/timelineQueries.js';
export { getAllSessionRows, getSessionRows, getUnread, listConversations, type ListConversationsOptions } from './sessions/sessionsQueries.js';
export { getDelta, readSyncFence, SYNC_PROJECTIONS, type SyncFence } from './sync/getDelta.js';
