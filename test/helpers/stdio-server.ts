/**
 * The stdio server of src/main.ts, with the test auth mode: verifies tokens of the embedded
 * auth of the server at SUPABASE_URL. Spawned by the stdio tests.
 */
import { loadConfig } from '../../src/config.ts'
import { runStdio } from '../../src/mcp/stdio.ts'
import { embeddedJwtAuthMode } from './auth-mode.ts'

const config = loadConfig(process.env, {})
await runStdio(config, { authMode: embeddedJwtAuthMode(() => config.effectiveSupabaseUrl) })
