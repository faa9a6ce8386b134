/**
 * A self-signed certificate for development and tests, made by the `openssl` command-line tool
 * (Node can make keys but not X.509 certificates). Never for production.
 *
 * @internal
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import { execFile } from "node:child_process"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

/** @internal */
export interface DevCertificate {
  /** PEM of the private key (P-256). */
  readonly key: string
  /** PEM of the certificate. */
  readonly cert: string
  readonly keyPath: string
  readonly certPath: string
  /**
   * base64 of the SHA-256 of the certificate's public key (SPKI): what Chromium's
   * `--ignore-certificate-errors-spki-list` takes to trust this certificate alone.
   */
  readonly spki: string
}

/** @internal */
export interface DevCertificateOptions {
  /** Where `key.pem` and `cert.pem` go (created if missing). Default: a fresh temporary directory. */
  readonly dir?: string | undefined
  /** Names and addresses the certificate is valid for. Default: localhost, 127.0.0.1 and ::1. */
  readonly hosts?: ReadonlyArray<string> | undefined
  /** Days of validity (default 30). */
  readonly days?: number | undefined
  /** Reuse `key.pem` and `cert.pem` already in `dir` while they are valid (default true). */
  readonly reuse?: boolean | undefined
  /** The openssl command (default `openssl`, found on the `PATH`). */
  readonly openssl?: string | undefined
}

/** @internal */
export class DevCertificateError extends Data.TaggedError("DevCertificateError")<{
  readonly message: string
  readonly cause?: unknown
}> {}

const isIp = (host: string) => /^[0-9.]+$/.test(host) || host.includes(":")

const spkiOf = (cert: string): string =>
  Crypto.createHash("sha256")
    .update(new Crypto.X509Certificate(cert).publicKey.export({ type: "spki", format: "der" }))
    .digest("base64")

const read = (keyPath: string, certPath: string): DevCertificate => {
  const key = Fs.readFileSync(keyPath, "utf8")
  const cert = Fs.readFileSync(certPath, "utf8")
  return { key, cert, keyPath, certPath, spki: spkiOf(cert) }
}

/** Valid for at least another day, and for every host asked for. */
const usable = (certPath: string, hosts: ReadonlyArray<string>): boolean => {
  try {
    const x509 = new Crypto.X509Certificate(Fs.readFileSync(certPath))
    if (Date.parse(x509.validTo) < Date.now() + 86_400_000) return false
    return hosts.every((h) => (isIp(h) ? x509.checkIP(h) : x509.checkHost(h)) !== undefined)
  } catch {
    return false
  }
}

/** @internal */
export const devCertificate = (options?: DevCertificateOptions): Effect.Effect<DevCertificate, DevCertificateError> =>
  Effect.suspend(() => {
    const hosts = options?.hosts ?? ["localhost", "127.0.0.1", "::1"]
    const days = options?.days ?? 30
    let dir: string
    try {
      dir = options?.dir ?? Fs.mkdtempSync(Path.join(Os.tmpdir(), "streamwire-cert-"))
      Fs.mkdirSync(dir, { recursive: true })
    } catch (cause) {
      return Effect.fail(new DevCertificateError({ message: `cannot create the directory ${options?.dir}`, cause }))
    }
    const keyPath = Path.join(dir, "key.pem")
    const certPath = Path.join(dir, "cert.pem")
    if ((options?.reuse ?? true) && Fs.existsSync(keyPath) && usable(certPath, hosts)) {
      return Effect.try({
        try: () => read(keyPath, certPath),
        catch: (cause) => new DevCertificateError({ message: `cannot read ${keyPath} and ${certPath}`, cause })
      })
    }
    const san = hosts.map((h) => (isIp(h) ? `IP:${h}` : `DNS:${h}`)).join(",")
    const args = [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      keyPath,
      "-out",
      certPath,
      "-days",
      String(days),
      "-subj",
      "/CN=streamwire development",
      "-addext",
      `subjectAltName=${san}`
    ]
    return Effect.async<DevCertificate, DevCertificateError>((resume) => {
      execFile(options?.openssl ?? "openssl", args, { timeout: 30_000 }, (error, _stdout, stderr) => {
        if (error !== null) {
          const missing = (error as NodeJS.ErrnoException).code === "ENOENT"
          return resume(Effect.fail(
            new DevCertificateError({
              message: missing
                ? "the openssl command is not installed (Debian: apt-get install openssl)"
                : `openssl failed: ${String(stderr).trim() || error.message}`,
              cause: error
            })
          ))
        }
        try {
          Fs.chmodSync(keyPath, 0o600)
          resume(Effect.succeed(read(keyPath, certPath)))
        } catch (cause) {
          resume(Effect.fail(new DevCertificateError({ message: `cannot read ${keyPath} and ${certPath}`, cause })))
        }
      })
    })
  })
