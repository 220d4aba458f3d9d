// Starts Bluesky's reference PLC directory and PDS (no app view) on loopback, prints one
// JSON line when they answer, and stops them on SIGTERM or when stdin closes (so a
// killed test run leaves no node process behind).
import { TestNetworkNoAppView } from '@atproto/dev-env'

const [plcPort, pdsPort, blobLimit] = process.argv.slice(2).map(Number)
const network = await TestNetworkNoAppView.create({
  plc: { port: plcPort },
  pds: { port: pdsPort, blobUploadLimit: blobLimit, hostname: 'localhost' },
})
console.log(JSON.stringify({ ready: true, pds: network.pds.url, plc: network.plc.url }))

const stop = async () => {
  await network.close().catch(() => {})
  process.exit(0)
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
process.stdin.on('end', stop)
process.stdin.resume()
