/**
 * A server's request to the client under `server_requests: { sampling: require_approval }`, in
 * the browser: the approval card shows what the server asks (its prompt), offers Deny and Allow
 * once only, and Allow once lets the client answer it.
 */
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js'
import { expect, goTo, test } from './fixtures'
import { everything, textOf } from '../../helpers/harness'

test('the card shows the sampling prompt first; Allow once lets the client answer', async ({
  page,
  env,
}) => {
  const policy = env.writePolicy('everything', {
    version: '1',
    default: 'allow',
    server_requests: { sampling: 'require_approval' },
  })
  env.writeConfig([everything('everything', { policy })])
  await env.startGateway({ port: 0 })
  if (!env.uiUrl) throw new Error(`airlock serve printed no web UI URL:\n${env.gatewayOutput}`)
  await page.goto(env.uiUrl)
  await page.locator('[data-connection=open]').waitFor()

  const asked: string[] = []
  const { client } = await env.connect('everything', {
    name: 'browser-agent',
    capabilities: { sampling: {} },
    setup: (c) =>
      c.setRequestHandler(CreateMessageRequestSchema, () => {
        asked.push('sampling')
        return {
          role: 'assistant',
          content: { type: 'text', text: 'sampled after approval' },
          model: 'test-model',
        }
      }),
  })
  const call = client.callTool({
    name: 'trigger-sampling-request',
    arguments: { prompt: 'draft the quarterly report', maxTokens: 20 },
  })

  const card = page.getByTestId('approval-card').first()
  await card.waitFor()
  await expect(card.getByTestId('approval-server-request')).toHaveText(
    'everything sends browser-agent a sampling request (sampling/createMessage)',
  )
  await expect(card.getByTestId('approval-asks')).toHaveText(
    'user: Resource trigger-sampling-request context: draft the quarterly report',
  )
  await expect(card.getByTestId('approval-args')).toContainText('You are a helpful test server.')
  // Only Deny and Allow once: a server's request leaves no grant behind.
  await expect(card.locator('[data-answer]')).toHaveCount(2)
  expect(asked).toEqual([]) // the client has not been asked yet

  await card.locator('[data-answer=allow_once]').click()
  expect(textOf(await call)).toContain('sampled after approval')
  expect(asked).toEqual(['sampling'])

  // Activity lists the request as its own row, marked as one the server sent (↩), approved.
  await goTo(page, 'Activity')
  const row = page.getByTestId('call-row').filter({ has: page.getByTestId('server-request-mark') })
  await expect(row).toHaveCount(1)
  await expect(row.getByTestId('call-tool')).toHaveText('↩ sampling/createMessage')
  await expect(row).toContainText('approved')
})
