import { randomBytes } from 'node:crypto'
import { startLoadBalancer, type LoadBalancer } from './load-balancer.ts'
import { spawnServer, type ServerProcess } from './spawn-server.ts'

export interface Cluster {
  /** The load balancer's URL: the public URL (BASE_URL) of every instance. */
  url: string
  balancer: LoadBalancer
  instances: ServerProcess[]
  stop(): Promise<void>
}

/**
 * Several `node src/main.ts` processes as one service: one database (DATABASE_URL), one
 * Redis when given, one OAUTH_TOKEN_KEY, each with its own data folder, started together behind a round-robin
 * load balancer whose URL they all take as BASE_URL.
 */
export async function startCluster(options: { count: number; databaseUrl: string; redisUrl?: string; env?: Record<string, string> }): Promise<Cluster> {
  const balancer = await startLoadBalancer()
  const env = {
    DATABASE_URL: options.databaseUrl,
    BASE_URL: balancer.url,
    // Instances with data folders of their own share the OAuth token key through the environment.
    OAUTH_TOKEN_KEY: randomBytes(32).toString('base64url'),
    ...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}),
    ...options.env,
  }
  const started = await Promise.allSettled(Array.from({ length: options.count }, () => spawnServer(env)))
  const instances = started.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []))
  const stop = async () => {
    await balancer.close()
    await Promise.all(instances.map((instance) => instance.stop()))
  }
  const failure = started.find((outcome) => outcome.status === 'rejected')
  if (failure) {
    await stop()
    throw failure.reason
  }
  balancer.setTargets(instances.map((instance) => instance.url))
  return { url: balancer.url, balancer, instances, stop }
}
