import { createClient, type SupabaseClientOptions } from '@supabase/supabase-js'
import type { TestServer } from './server.ts'

export const SERVER_CLIENT = { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false } as const

/** A supabase-js client as a server would make one, against the test server. */
export function clientFor(server: TestServer, options: SupabaseClientOptions<'public'> = {}) {
  return createClient(server.config.baseUrl, server.anonKey, { ...options, auth: { ...SERVER_CLIENT, ...options.auth } })
}

export async function signUpAndIn(server: TestServer, email: string, password = 'correct horse') {
  const supabase = clientFor(server)
  const { error } = await supabase.auth.signUp({ email, password })
  if (error) throw error
  return signIn(server, email, password)
}

export async function signIn(server: TestServer, email: string, password = 'correct horse') {
  const supabase = clientFor(server)
  const { data, error } = await supabase.auth.signInWithPassword({ email, password })
  if (error) throw error
  return { supabase, session: data.session }
}

/** The redirect target the apps in these tests use: a loopback address, which GoTrue allows. */
export const APP_CALLBACK = 'http://127.0.0.1:3999/auth/callback'
