// What the coordinator and the load-generator processes say to each other (over the fork IPC channel).

export interface DeviceSpec {
  userId: string;
  token: string;
  /** Which node (index into the urls) and which loopback source address this socket uses. */
  url: string;
  localAddress?: string;
}

export interface SenderSpec {
  userId: string;
  token: string;
  conversationId: string;
  url: string;
}

/** A message a device pulled through sync: who, which, when sent, first hint after the send, when visible. */
export interface Delivered {
  userId: string;
  conversationId: string;
  seq: number;
  messageId: string;
  /** body.i, when the sender numbered its messages. */
  index: number | null;
  sentAt: number;
  hintAt: number | null;
  visibleAt: number;
}

export interface Ack {
  senderId: string;
  conversationId: string;
  clientMsgId: string;
  messageId: string;
  seq: number;
  sentAt: number;
  doneAt: number;
  status: number;
  attempts: number;
}

export interface SendReport {
  acks: Ack[];
  /** Sends given up after every retry (none expected: each one is a loss candidate). */
  failed: Array<{ conversationId: string; clientMsgId: string; error: string }>;
  statuses: Record<string, number>;
  /** Open loop only: sends that were due but not issued because too many were in flight. */
  skipped: number;
}

export interface PullSample {
  doneAt: number;
  latencyMs: number;
  items: number;
}

export type WorkerCommand =
  | { cmd: 'connect'; devices: DeviceSpec[]; pull: boolean; concurrency: number; appPingMs?: number }
  | { cmd: 'initialSync' }
  | { cmd: 'finalPull' }
  | { cmd: 'collect' }
  | { cmd: 'status' }
  | { cmd: 'sendOpen'; senders: SenderSpec[]; ratePerSecond: number; durationMs: number; maxInFlight: number; tag: string }
  | { cmd: 'sendClosed'; senders: SenderSpec[]; concurrency: number; durationMs: number; tag: string; maxSends?: number }
  | { cmd: 'pullRepeat'; readers: Array<{ token: string; since: string; url: string }>; limit: number; reps: number; concurrency: number }
  | { cmd: 'closeAll' };

export interface WorkerRequest {
  id: number;
  command: WorkerCommand;
}

export type WorkerReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };
