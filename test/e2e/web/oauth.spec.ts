/**
 * End to end: signing in to an OAuth remote from the Servers screen, in Chromium against
 * `airlock serve`. The remote is the SDK's authorization-server pieces on 127.0.0.1 (the demo
 * provider approves at once). Sign in shows the link; following it in a new tab comes back to
 * Airlock's callback, and the card says signed in; an agent then calls the remote's tool.
 */
import { textOf } from '../../helpers/harness'
import { startOAuthRemote, stopOAuthRemote } from '../../helpers/oauth-remote'
import { expect, goTo, test } from './fixtures'

test('the card shows the sign-in state; Sign in gives a link that signs Airlock in', async ({
  page,
  env,
}) => {
  const remote = await startOAuthRemote(env.home)
  try {
    expect((await env.run(['servers', 'add', 'remote', '--url', remote.url])).code).toBe(0)
    await env.startGateway({ port: 0 })
    if (!env.uiUrl) throw new Error(`airlock serve printed no web UI URL:\n${env.gatewayOutput}`)
    await page.goto(env.uiUrl)
    await page.locator('[data-connection=open]').waitFor()
    await goTo(page, 'Servers')
    const card = page.locator('[data-testid=server-card][data-server="remote"]')
    await expect(card.getByTestId('server-auth')).toHaveText('none')

    await card.getByTestId('server-sign-in-button').click()
    await expect(card.getByTestId('server-auth')).toHaveText('OAuth · signing in')
    const link = card.getByTestId('server-sign-in-link')
    await expect(link).toHaveAttribute('href', new RegExp(`^${remote.base}/authorize\\?`))
    await expect(link).toHaveAttribute('rel', 'noopener noreferrer')

    // The person follows the link: a new tab, the authorization server, then Airlock's callback.
    const [tab] = await Promise.all([page.context().waitForEvent('page'), link.click()])
    await expect(tab.locator('h1')).toHaveText('Signed in')
    await expect(tab.locator('p')).toHaveText(
      'Airlock is signed in to "remote". You can close this tab.',
    )
    await tab.close()
    await expect(card.getByTestId('server-auth')).toHaveText('OAuth · signed in')
    await expect(card.getByTestId('server-sign-in')).toHaveCount(0)
    await expect(card.getByTestId('server-sign-in-button')).toHaveCount(0)

    const { client } = await env.connect('remote')
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'ui' } }))).toBe(
      'oauth echo: ui',
    )

    await card.getByRole('button', { name: 'Sign out' }).click()
    await expect(card.getByTestId('server-sign-in-button')).toBeVisible()
  } finally {
    await stopOAuthRemote(remote)
  }
})
