/** The CLI's link to the running gateway: its control connection, or none when no gateway runs. */
import { ControlClient } from '../node/control-client'
import { CliError } from './cli-error'

/**
 * The control connection to the gateway of `home`, or undefined when none runs (commands then
 * work on the data directory's files). A gateway that runs but refuses us is an error (exit 1):
 * writing files it would overwrite is never the fallback.
 */
export async function runningGateway(home: string): Promise<ControlClient | undefined> {
  try {
    return await ControlClient.connect(home)
  } catch (err) {
    if (/not running|has run/.test((err as Error).message)) return undefined
    throw new CliError(`cannot reach the Airlock gateway: ${(err as Error).message}`, 1, {
      cause: err,
    })
  }
}
