/** An error the CLI prints as one line (no stack) and exits with `exitCode`. */
export class CliError extends Error {
  override name = 'CliError'
  constructor(
    message: string,
    readonly exitCode: number = 1,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

/** `p`, with a refusal (a ControlError, a closed connection) as a CliError (exit 1) carrying its message. */
export async function cliErrors<T>(p: Promise<T>): Promise<T> {
  try {
    return await p
  } catch (err) {
    throw new CliError((err as Error).message, 1, { cause: err })
  }
}
