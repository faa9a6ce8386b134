/**
 * Vitest globalSetup: one `redis-server` for the whole suite (a free port on 127.0.0.1, its own
 * temp dir, no persistence), its URL handed to tests as `inject("redisUrl")`, stopped and its dir
 * removed afterwards.
 */
import type {} from "vitest"
import type { TestProject } from "vitest/node"
import { type RedisServer, startRedis } from "./redisServer.js"

declare module "vitest" {
  export interface ProvidedContext {
    redisUrl: string
  }
}

let server: RedisServer | undefined

export async function setup(project: TestProject) {
  server = await startRedis()
  project.provide("redisUrl", server.url)
}

export async function teardown() {
  await server?.dispose()
  server = undefined
}
