/**
 * Decoding a JSON request body with a Schema, for the POST-then-stream pattern: the body is read
 * and checked in full *before* any response starts, so a bad body is a plain `400` with a message
 * that says what is wrong, never a half-open stream.
 *
 * @since 0.1.0
 */
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as Respondable from "@effect/platform/HttpServerRespondable"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as ParseResult from "effect/ParseResult"
import type * as Schema from "effect/Schema"

/**
 * The request body could not be used: not JSON, not what the Schema describes, or unreadable.
 * It is `Respondable`: returned as a handler's error it becomes a `400` JSON response
 * `{ "error": "InvalidBody", "message": ... }`.
 *
 * @example
 * ```ts
 * import { RequestBody } from "@streamwire/server"
 *
 * const error = new RequestBody.InvalidBody({ reason: "schema", detail: "is missing: prompt" })
 * error.message // "invalid request body: is missing: prompt"
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidBody extends Data.TaggedError("InvalidBody")<{
  /** `"json"`: not valid JSON; `"schema"`: valid JSON the Schema refused; `"read"`: the body could not be read. */
  readonly reason: "json" | "schema" | "read"
  readonly detail: string
}> implements Respondable.Respondable {
  override get message(): string {
    return `invalid request body: ${this.detail}`
  }
  [Respondable.symbol]() {
    return Effect.succeed(toResponse(this))
  }
}

/**
 * The `400` response for an {@link InvalidBody}.
 *
 * @example
 * ```ts
 * import { RequestBody } from "@streamwire/server"
 *
 * RequestBody.toResponse(new RequestBody.InvalidBody({ reason: "json", detail: "not JSON" })) // status 400
 * ```
 *
 * @since 0.1.0
 * @category conversions
 */
export const toResponse = (error: InvalidBody): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.unsafeJson({ error: "InvalidBody", reason: error.reason, message: error.message }, {
    status: 400,
    headers: { "cache-control": "no-store" }
  })

/**
 * Reads the request body as JSON and decodes it with the Schema.
 *
 * @example
 * ```ts
 * import { RequestBody } from "@streamwire/server"
 * import { HttpServerResponse } from "@effect/platform"
 * import { Effect, Schema } from "effect"
 *
 * const Prompt = Schema.Struct({ prompt: Schema.String })
 * const handler = Effect.gen(function*() {
 *   const { prompt } = yield* RequestBody.json(Prompt)
 *   return HttpServerResponse.text(prompt.toUpperCase())
 * }) // a bad body fails with InvalidBody, which responds 400 by itself
 * ```
 *
 * @since 0.1.0
 * @category decoding
 */
export const json = <A, I, R>(
  schema: Schema.Schema<A, I, R>
): Effect.Effect<A, InvalidBody, HttpServerRequest.HttpServerRequest | R> =>
  HttpServerRequest.schemaBodyJson(schema, { errors: "all" }).pipe(
    Effect.catchTags({
      ParseError: (e) =>
        Effect.fail(new InvalidBody({ reason: "schema", detail: ParseResult.TreeFormatter.formatErrorSync(e) })),
      RequestError: (e) =>
        Effect.fail(
          e.reason === "Decode"
            ? new InvalidBody({ reason: "json", detail: "the body is not valid JSON" })
            : new InvalidBody({ reason: "read", detail: "the body could not be read" })
        )
    })
  )

/**
 * Decodes the JSON body with the Schema, then answers with `respond(body)`; a bad body is answered
 * with a 400 (see {@link toResponse}) and `respond` never runs — never a half-open stream.
 *
 * @example
 * ```ts
 * import { RequestBody } from "@streamwire/server"
 * import { HttpRouter, HttpServerResponse } from "@effect/platform"
 * import { Effect, Schema } from "effect"
 *
 * const Prompt = Schema.Struct({ prompt: Schema.String })
 * const router = HttpRouter.empty.pipe(
 *   HttpRouter.post("/upper", RequestBody.withJson(Prompt, ({ prompt }) => Effect.succeed(HttpServerResponse.text(prompt.toUpperCase()))))
 * )
 * ```
 *
 * @since 0.1.0
 * @category decoding
 */
export const withJson = <A, I, RS, E, R>(
  schema: Schema.Schema<A, I, RS>,
  respond: (body: A) => Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>
): Effect.Effect<HttpServerResponse.HttpServerResponse, E, HttpServerRequest.HttpServerRequest | RS | R> =>
  Effect.matchEffect(json(schema), {
    onFailure: (error) => Effect.succeed(toResponse(error)),
    onSuccess: respond
  })
