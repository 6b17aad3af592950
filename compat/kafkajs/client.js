#!/usr/bin/env node
// kafkajs in Weir's compatibility suite.
//
// Usage: node client.js <bootstrap> <topic> <command> < params.json
//
// The command's parameters come as JSON on stdin (internal/compat/script_test.go
// is the other side). The script prints {"result": ...} on stdout, or
// {"error": {"code": n, "name": "...", "message": "..."}} when kafkajs reported
// a Kafka error; on anything else (a check of its own that failed, an
// exception) it exits non-zero with a message on stderr. Records travel as
// JSON objects: partition, offset, key, value, headers (a list of {key,
// value}), timestamp (milliseconds); bytes in base64, null for null.
//
// Codecs: gzip is built in; snappy and lz4 are kafkajs's plug-in codecs
// (kafkajs-snappy, kafkajs-lz4). Its zstd plug-in (@kafkajs/zstd) does not
// build on current Node.js, so zstd is not supported.
//
// Consuming: kafkajs's Consumer only runs in a consumer group. The consume
// commands, which read partitions without a group, use the Fetch kafkajs's
// consumer uses (its cluster and broker objects, reached through the
// private symbol kafkajs creates them with): kafkajs's own request encoding,
// response and record-batch decoding and codecs, without the group.
//
// Transactions: produce_transactions, consume_committed, transact and fence
// (internal/compat/txn_test.go) use kafkajs's transactional producer
// (producer.transaction()); consume_committed and transact run its Consumer,
// in a group, whose isolation level is read_committed by default.
//
// The member command runs kafkajs's Consumer as a member of a consumer group
// for the group scenario (internal/compat/group_test.go) until stdin closes:
// its parameters are the first line of stdin, its events JSON lines on stdout
// (see member below).

'use strict'

const {
  Kafka,
  CompressionTypes,
  CompressionCodecs,
  ConfigResourceTypes,
  Partitioners,
  logLevel,
} = require('kafkajs')
const SnappyCodec = require('kafkajs-snappy')

CompressionCodecs[CompressionTypes.Snappy] = SnappyCodec
// kafkajs-lz4 is a native addon that npm ci builds: if it did not, only
// lz4 fails, saying why.
CompressionCodecs[CompressionTypes.LZ4] = () => {
  const LZ4Codec = require('kafkajs-lz4')
  return new LZ4Codec().codec()
}

const TIMEOUT = 30000 // milliseconds, for each request kafkajs makes

const CODECS = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
}

// KafkaErr is a Kafka error kafkajs reported.
class KafkaErr extends Error {
  constructor(code, name, message) {
    super(`${name} (${code}): ${message}`)
    this.code = code
    this.name = name
    this.detail = message
  }
}

// Mismatch is what kafkajs consumed not being what the suite produced.
class Mismatch extends Error {}

// kafkaError finds the Kafka protocol error inside what kafkajs threw: its
// retrier wraps it (cause, originalError), createTopics aggregates them.
function kafkaError(e) {
  const seen = new Set()
  const queue = [e]
  while (queue.length > 0) {
    const x = queue.shift()
    if (!x || seen.has(x)) continue
    seen.add(x)
    if (typeof x.type === 'string' && typeof x.code === 'number') {
      return new KafkaErr(x.code, x.type, x.message)
    }
    queue.push(x.cause, x.originalError, ...(x.errors || []))
  }
  return null
}

const unb64 = s => (s === null ? null : Buffer.from(s, 'base64'))
const b64 = b => (b === null || b === undefined ? null : Buffer.from(b).toString('base64'))

function client(bootstrap, clientId = 'weir-compat') {
  return new Kafka({
    clientId,
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
    requestTimeout: TIMEOUT,
    retry: { retries: 2, initialRetryTime: 100 },
  })
}

async function withAdmin(bootstrap, fn) {
  const admin = client(bootstrap).admin()
  await admin.connect()
  try {
    return await fn(admin)
  } finally {
    await admin.disconnect()
  }
}

const commands = {
  async version() {
    return `kafkajs ${require('kafkajs/package.json').version}`
  },

  async create(bootstrap, topic, params) {
    const created = await withAdmin(bootstrap, admin =>
      admin.createTopics({
        timeout: TIMEOUT,
        topics: [
          {
            topic,
            numPartitions: params.partitions,
            replicationFactor: params.replicas,
            configEntries: Object.entries(params.configs).map(([name, value]) => ({ name, value })),
          },
        ],
      })
    )
    if (!created) {
      // kafkajs's way of reporting TOPIC_ALREADY_EXISTS.
      throw new KafkaErr(36, 'TOPIC_ALREADY_EXISTS', 'createTopics resolved false: the topic exists')
    }
    return {}
  },

  // produce uses the plain producer, or with params.idempotent the
  // idempotent one, which needs retries (and acks -1, as every produce
  // here has); one request in flight keeps its batches in order.
  async produce(bootstrap, topic, params) {
    const producer = client(bootstrap).producer({
      createPartitioner: Partitioners.DefaultPartitioner, // unused: every record names its partition
      allowAutoTopicCreation: true,
      ...(params.idempotent
        ? { idempotent: true, maxInFlightRequests: 1, retry: { retries: 5, initialRetryTime: 100 } }
        : { retry: { retries: 0 } }), // so that a bad request fails at once
    })
    await producer.connect()
    let sent
    try {
      sent = await producer.send({
        topic,
        acks: -1,
        timeout: TIMEOUT,
        compression: CODECS[params.codec],
        messages: params.records.map(message),
      })
    } finally {
      await producer.disconnect()
    }
    // One batch per partition: each record's offset follows the batch's
    // base offset in the order the records were given.
    const next = new Map(sent.map(s => [s.partition, BigInt(s.baseOffset)]))
    return params.records.map(r => {
      const offset = next.get(r.partition)
      next.set(r.partition, offset + 1n)
      return { partition: r.partition, offset: Number(offset) }
    })
  },

  async consume(bootstrap, topic, params) {
    const starts = new Map()
    for (let p = 0; p < params.partitions; p++) starts.set(p, 0)
    const got = await fetchRecords(bootstrap, topic, starts, params.want.length)
    got.sort((a, b) => a.partition - b.partition || a.offset - b.offset)
    check(got, params.want)
    return got
  },

  async offsets_for_times(bootstrap, topic, params) {
    return withAdmin(bootstrap, async admin => {
      const offsets = []
      for (const ts of params.timestamps) {
        // For a time after every record kafkajs gives the high watermark.
        const found = await admin.fetchTopicOffsetsByTimestamp(topic, ts)
        const p = found.find(o => o.partition === params.partition)
        offsets.push(Number(p.offset))
      }
      return offsets
    })
  },

  async consume_from(bootstrap, topic, params) {
    const got = await fetchRecords(bootstrap, topic, new Map([[params.partition, params.offset]]), params.want.length)
    check(got, params.want)
    return got
  },

  async metadata(bootstrap, topic) {
    const md = await withAdmin(bootstrap, admin => admin.fetchTopicMetadata({ topics: [topic] }))
    return md.topics.find(t => t.name === topic).partitions.length
  },

  async delete(bootstrap, topic) {
    await withAdmin(bootstrap, admin => admin.deleteTopics({ topics: [topic], timeout: TIMEOUT }))
    return {}
  },

  async describe_configs(bootstrap, topic, params) {
    const described = await withAdmin(bootstrap, admin =>
      admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: params.names }],
      })
    )
    const got = {}
    for (const r of described.resources) {
      if (r.errorCode !== 0) throw new KafkaErr(r.errorCode, 'error', r.errorMessage)
      for (const e of r.configEntries) got[e.configName] = e.configValue
    }
    return got
  },

  async alter_configs(bootstrap, topic, params) {
    await withAdmin(bootstrap, admin =>
      admin.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: ConfigResourceTypes.TOPIC,
            name: topic,
            configEntries: Object.entries(params.configs).map(([name, value]) => ({ name, value })),
          },
        ],
      })
    )
    return {}
  },

  // produce_transactions runs each transaction given with one
  // transactional producer, which initialises its producer id (with the
  // transactional id) at its first transaction().
  async produce_transactions(bootstrap, topic, params) {
    const producer = transactionalProducer(client(bootstrap), params.id)
    await producer.connect()
    try {
      for (const t of params.transactions) {
        const txn = await producer.transaction()
        await txn.send({ topic, messages: t.records.map(message) })
        await (t.commit ? txn.commit() : txn.abort())
      }
    } finally {
      await producer.disconnect()
    }
    return {}
  },

  // consume_committed reads with kafkajs's Consumer, whose isolation level
  // is read_committed unless readUncommitted is set: the Consumer only runs
  // in a group, a group of its own here, from the earliest offsets, that
  // commits nothing.
  async consume_committed(bootstrap, topic, params) {
    const kafka = client(bootstrap)
    const got = []
    const wanted = () => got.length >= params.want.length
    await consumeUntil(kafka, `${topic}-read-committed`, topic, r => got.push(r), wanted, async () => {})
    got.sort((a, b) => a.partition - b.partition || a.offset - b.offset)
    check(got, params.want)
    return got
  },

  // transact is a round of consume-transform-produce: kafkajs's Consumer, a
  // member of the group, reads the input from the group's committed offsets
  // (read_committed, no commits of its own) up to params.ends; a
  // transaction of the transactional producer sends the copies to the
  // output and adds the ends to the transaction (transaction.sendOffsets,
  // which names the group only: TxnOffsetCommit v0-1 carry no member).
  async transact(bootstrap, topic, params) {
    const kafka = client(bootstrap)
    const producer = transactionalProducer(kafka, params.id)
    await producer.connect()
    try {
      const next = await committedOffsets(kafka, params.group, topic, params.ends.length)
      const got = []
      const consumed = r => {
        got.push(r)
        next[r.partition] = r.offset + 1
      }
      const reached = () => next.every((n, p) => n >= params.ends[p])
      await consumeUntil(kafka, params.group, topic, consumed, reached, async () => {
        const txn = await producer.transaction()
        await txn.send({ topic: params.output, messages: got.map(message) })
        await txn.sendOffsets({
          consumerGroupId: params.group,
          topics: [{ topic, partitions: params.ends.map((offset, partition) => ({ partition, offset: String(offset) })) }],
        })
        await (params.commit ? txn.commit() : txn.abort())
      })
      return got
    } finally {
      await producer.disconnect()
    }
  },

  // fence: the second producer's first transaction() initialises the
  // transactional id again, which fences the first producer.
  async fence(bootstrap, topic, params) {
    const kafka = client(bootstrap)
    const first = transactionalProducer(kafka, params.id)
    const second = transactionalProducer(kafka, params.id)
    await first.connect()
    await second.connect()
    try {
      const t1 = await first.transaction()
      await t1.send({ topic, messages: [message(params.first)] })
      const t2 = await second.transaction()
      let fenced = null
      try {
        await t1.send({ topic, messages: [message(params.late)] })
        await t1.commit()
      } catch (e) {
        const ke = kafkaError(e)
        if (!ke) throw e
        fenced = { code: ke.code, name: ke.name, message: ke.detail }
      }
      await t2.send({ topic, messages: [message(params.second)] })
      await t2.commit()
      return { fenced }
    } finally {
      await first.disconnect()
      await second.disconnect()
    }
  },
}

// transactionalProducer is kafkajs's transactional producer, as its
// documentation configures it: idempotent, one request in flight, retries.
function transactionalProducer(kafka, transactionalId) {
  return kafka.producer({
    transactionalId,
    idempotent: true,
    maxInFlightRequests: 1,
    retry: { retries: 5, initialRetryTime: 100 },
  })
}

// committedOffsets are a group's committed offsets of a topic's first
// partitions (0 where it has none), as admin.fetchOffsets gives them.
async function committedOffsets(kafka, groupId, topic, partitions) {
  const admin = kafka.admin()
  await admin.connect()
  try {
    const [t] = await admin.fetchOffsets({ groupId, topics: [topic] })
    const next = new Array(partitions).fill(0)
    for (const p of t.partitions) {
      if (p.partition < partitions) next[p.partition] = Math.max(Number(p.offset), 0)
    }
    return next
  } finally {
    await admin.disconnect()
  }
}

// consumeUntil runs kafkajs's Consumer as a member of group on topic, from
// the earliest offsets where the group has none, without committing,
// giving every record it consumes to consumed, until reached() is true;
// then calls then() while the member is still in the group, and
// disconnects.
async function consumeUntil(kafka, groupId, topic, consumed, reached, then) {
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, retry: { retries: 5, initialRetryTime: 100 } })
  await consumer.connect()
  try {
    let done
    const finished = new Promise(resolve => {
      done = resolve
    })
    if (reached()) done()
    await consumer.subscribe({ topics: [topic], fromBeginning: true })
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message: m }) => {
        consumed(asRecord(partition, m))
        if (reached()) done()
      },
    })
    let timer
    const deadline = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error('not every record consumed before the deadline')), 45000)
    })
    try {
      await Promise.race([finished, deadline])
    } finally {
      clearTimeout(timer)
    }
    await then()
  } finally {
    await consumer.disconnect()
  }
}

// message is a record (JSON) as kafkajs produces it.
function message(r) {
  return {
    partition: r.partition,
    key: unb64(r.key),
    value: unb64(r.value),
    timestamp: String(r.timestamp),
    headers: headersObject(r.headers),
  }
}

// asRecord is the JSON form of a message kafkajs consumed.
function asRecord(partition, m) {
  return {
    partition,
    offset: Number(m.offset),
    key: b64(m.key),
    value: b64(m.value),
    headers: headersList(m.headers),
    timestamp: Number(m.timestamp),
  }
}

// headersObject is kafkajs's form of a record's headers: an object whose
// repeated names hold arrays. It keeps the order of the data set's headers,
// whose repeated names are adjacent; kafkajs cannot express a name repeated
// around another one.
function headersObject(headers) {
  const obj = {}
  for (const h of headers) {
    const v = unb64(h.value)
    if (obj[h.key] === undefined) obj[h.key] = v
    else if (Array.isArray(obj[h.key])) obj[h.key].push(v)
    else obj[h.key] = [obj[h.key], v]
  }
  return obj
}

function headersList(obj) {
  const list = []
  for (const [key, v] of Object.entries(obj)) {
    for (const value of Array.isArray(v) ? v : [v]) list.push({ key, value: b64(value) })
  }
  return list
}

// fetchRecords reads count records from the given partitions, each from
// its start offset, with kafkajs's Fetch (see the top of the file).
async function fetchRecords(bootstrap, topic, starts, count) {
  const kafka = client(bootstrap)
  const create = Object.getOwnPropertySymbols(kafka).find(s => s.description === 'private:Kafka:createCluster')
  if (!create) throw new Error('kafkajs no longer has the private cluster constructor this script relies on')
  const cluster = kafka[create]({ allowAutoTopicCreation: false })
  await cluster.connect()
  try {
    await cluster.addTargetTopic(topic)
    const next = new Map(starts)
    const got = []
    const deadline = Date.now() + 45000
    while (got.length < count) {
      if (Date.now() > deadline) throw new Error(`consumed ${got.length} of ${count} records before the deadline`)
      const leaders = cluster.findLeaderForPartitions(topic, [...next.keys()])
      for (const [nodeId, partitions] of Object.entries(leaders)) {
        const broker = await cluster.findBroker({ nodeId })
        let response
        try {
          response = await broker.fetch({
            replicaId: -1,
            isolationLevel: 0, // read_uncommitted, Kafka's consumers' default
            maxWaitTime: 100,
            minBytes: 1,
            maxBytes: 10485760,
            topics: [
              {
                topic,
                partitions: partitions.map(p => ({ partition: p, fetchOffset: String(next.get(p)), maxBytes: 1048576 })),
              },
            ],
          })
        } catch (e) {
          throw kafkaError(e) || e
        }
        for (const t of response.responses) {
          for (const p of t.partitions) {
            for (const m of p.messages) {
              const offset = Number(m.offset)
              // A batch may start before the offset asked for.
              if (offset < next.get(p.partition) || m.isControlRecord) continue
              got.push(asRecord(p.partition, m))
              next.set(p.partition, offset + 1)
            }
          }
        }
      }
    }
    return got
  } finally {
    await cluster.disconnect()
  }
}

const short = s => (s.length <= 80 ? s : `${s.slice(0, 80)}...`)

// check compares consumed records with the expected ones, field by field.
function check(got, want) {
  const fields = ['partition', 'offset', 'key', 'value', 'timestamp', 'headers']
  for (let i = 0; i < Math.min(got.length, want.length); i++) {
    for (const f of fields) {
      const g = JSON.stringify(got[i][f])
      const w = JSON.stringify(want[i][f])
      if (g !== w) {
        throw new Mismatch(
          `record ${i} (partition ${want[i].partition}, offset ${want[i].offset}): ${f} is ${short(g)}, want ${short(w)}`
        )
      }
    }
  }
  if (got.length !== want.length) throw new Mismatch(`consumed ${got.length} records, want ${want.length}`)
}

// member runs a member of a consumer group: kafkajs's Consumer, with its
// only assigner (round robin, eager) and its auto-commit after each batch,
// until closed resolves (stdin closed); then it gives up what it still owns
// and disconnects, which leaves the group. Every event is a JSON line on
// stdout, stamped with the time in microseconds: partitions assigned and
// revoked (not whole assignments), records consumed, errors. kafkajs says
// when a rebalance starts (REBALANCING): being eager, the member owns
// nothing from then until it has joined again (GROUP_JOIN).
async function member(bootstrap, topic, params, closed) {
  const owned = new Set()
  const emit = (event, fields) => {
    const time = Math.round((performance.timeOrigin + performance.now()) * 1000)
    process.stdout.write(`${JSON.stringify({ event, time, ...fields })}\n`)
  }
  const byNumber = (a, b) => a - b
  const revoke = partitions => {
    const given = partitions.filter(p => owned.has(p)).sort(byNumber)
    given.forEach(p => owned.delete(p))
    if (given.length > 0) emit('revoked', { partitions: given })
  }
  if (params.protocol !== 'eager') throw new Error(`kafkajs has no ${params.protocol} rebalancing`)
  const consumer = client(bootstrap, params.name).consumer({
    groupId: params.group,
    sessionTimeout: params.session_timeout_ms,
    heartbeatInterval: params.heartbeat_interval_ms,
    rebalanceTimeout: params.rebalance_timeout_ms,
    maxWaitTimeInMs: 250,
    retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 1000 },
  })
  const { REBALANCING, GROUP_JOIN, CRASH } = consumer.events
  consumer.on(REBALANCING, () => revoke([...owned]))
  consumer.on(GROUP_JOIN, e => {
    const assignment = e.payload.memberAssignment[topic] || []
    revoke([...owned].filter(p => !assignment.includes(p)))
    const added = assignment.filter(p => !owned.has(p)).sort(byNumber)
    added.forEach(p => owned.add(p))
    if (added.length > 0) emit('assigned', { partitions: added })
  })
  consumer.on(CRASH, e => emit('error', { message: String(e.payload.error) }))
  await consumer.connect()
  await consumer.subscribe({ topics: [topic], fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      emit('record', { partition, offset: Number(message.offset), value: message.value.toString() })
    },
  })
  await closed
  revoke([...owned])
  await consumer.disconnect()
}

// runMember reads the member's parameters from the first line of stdin and
// runs it until stdin closes.
async function runMember(bootstrap, topic) {
  const lines = require('readline').createInterface({ input: process.stdin })
  const closed = new Promise(resolve => lines.once('close', resolve))
  const first = await new Promise(resolve => lines.once('line', resolve))
  try {
    await member(bootstrap, topic, JSON.parse(first), closed)
    finish(0)
  } catch (e) {
    console.error(`member: ${e.stack || e}`)
    finish(1)
  }
}

function readStdin() {
  return new Promise((resolve, reject) => {
    const chunks = []
    process.stdin.on('data', c => chunks.push(c))
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    process.stdin.on('error', reject)
  })
}

function finish(code, out) {
  if (out === undefined) process.exit(code)
  process.stdout.write(JSON.stringify(out), () => process.exit(code))
}

async function main() {
  const [bootstrap, topic, command] = process.argv.slice(2)
  if (!command) {
    console.error('usage: client.js <bootstrap> <topic> <command> < params.json')
    return finish(2)
  }
  if (command === 'member') return runMember(bootstrap, topic)
  if (!commands[command]) {
    console.error(`unknown command ${command}; commands: ${Object.keys(commands).join(', ')}`)
    return finish(2)
  }
  const params = JSON.parse(await readStdin())
  try {
    finish(0, { result: await commands[command](bootstrap, topic, params) })
  } catch (e) {
    const ke = e instanceof KafkaErr ? e : e instanceof Mismatch ? null : kafkaError(e)
    if (ke) return finish(0, { error: { code: ke.code, name: ke.name, message: ke.detail } })
    console.error(`${command}: ${e instanceof Mismatch ? e.message : e.stack || e}`)
    finish(1)
  }
}

main()
