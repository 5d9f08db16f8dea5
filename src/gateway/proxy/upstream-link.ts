/**
 * The server side of a session: how the relay reaches one MCP server. Today that is a child
 * process speaking newline-delimited JSON-RPC on stdio ({@link StdioUpstream}); a remote server
 * over Streamable HTTP is another implementation of the same contract. What an upstream
 * delivers is the server's bytes, unchecked: the session parses and judges every message.
 */

/** What an upstream reports to its session. Given to {@link UpstreamLink.start}. */
export interface UpstreamHandlers {
  /**
   * One message from the server: the bytes of one JSON-RPC message or batch, without framing
   * (no trailing newline). Called in the order the server sent them, never after `close`.
   */
  onmessage(message: Buffer): void
  /** A server message over the size cap was dropped; `bytes` is its length. */
  onoversize(bytes: number): void
  /** The upstream takes more again after {@link UpstreamLink.send} returned false. */
  ondrain(): void
  /**
   * The server went away on its own (it could not be started, it exited, the connection was
   * lost). Called at most once, after the last `onmessage`, and never after `close`. `what`
   * completes the sentence "MCP server X …" (`exited (code 1)`); `lastWords` is the end of what
   * the server wrote to its error output ('' when nothing).
   */
  onclose(what: string, lastWords: string): void
}

/** One session's connection to its MCP server. */
export interface UpstreamLink {
  /** Starts the server (spawns the process, opens the connection) and reports to `handlers`. Called once. */
  start(handlers: UpstreamHandlers): void
  /**
   * Sends messages to the server in order, each the bytes of one JSON-RPC message or batch
   * without framing; all are taken. Returns false when the caller should stop sending until
   * `ondrain`. Messages sent after the server went away are dropped.
   */
  send(messages: Buffer[]): boolean
  /** Stops delivering server messages until `resume` (the client is not reading). */
  pause(): void
  /** Delivers server messages again after `pause`. */
  resume(): void
  /**
   * Ends the server (for a child process: its whole process tree). No `onclose` follows.
   * Idempotent; resolves when the server is gone.
   */
  close(): Promise<void>
}
