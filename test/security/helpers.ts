import { redeemCode, type TokenSet } from '../../scripts/lib/oauth-flow.ts'
import type { TestServer } from '../helpers/server.ts'
import { signUp } from '../oauth/helpers.ts'
import { obtainCode, register, token } from '../oauth/manual-client.ts'

export const USER = { email: 'finding@example.com', password: 'a long enough secret' }

/** A user, a registered public client, and the tokens of one finished authorization. */
export async function connectedClient(server: TestServer, user = USER): Promise<{ clientId: string; tokens: TokenSet }> {
  await signUp(server, user.email, user.password)
  const clientId: string = (await register(server)).body.client_id
  const { code, verifier } = await obtainCode(server, clientId, user)
  return { clientId, tokens: await redeemCode(server.config.baseUrl, { clientId, code, verifier }) }
}

export async function refresh(server: TestServer, clientId: string, refreshToken: string): Promise<TokenSet> {
  const response = await token(server, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId })
  if (response.status !== 200) throw new Error(`refresh answered ${response.status}: ${JSON.stringify(response.body)}`)
  return response.body
}

/** Every row of every table of a schema, as text. */
export async function schemaText(server: TestServer, schema: string): Promise<string> {
  const { rows } = await server.db.query<{ table_name: string }>('select table_name from information_schema.tables where table_schema = $1', [schema])
  let text = ''
  for (const { table_name } of rows) text += JSON.stringify((await server.db.query(`select * from ${schema}.${table_name}`)).rows)
  return text
}
