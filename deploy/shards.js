// The fleet's shards (stage parameter `tickShards`): how many ticks the scheduler
// sends per slot (its TICK_SHARDS), and the worker's reserved concurrency derived
// from it: two per shard, since a shard's tick may start while its previous one
// is finishing, and one shard's ticks must never wait for another's.
//
// serverless.yml uses `${file(./deploy/shards.js):count}` and
// `${file(./deploy/shards.js):workerConcurrency}`.
'use strict';

async function param(resolveVariable, name) {
  const value = await resolveVariable(`param:${name}, ""`);
  return typeof value === 'string' ? value.trim() : String(value ?? '');
}

// The shard count, checked: a whole number from 1 to the tick interval, so each
// shard's ticks are a whole second (an SQS delay) apart from the next shard's.
async function shards(resolveVariable) {
  const text = (await param(resolveVariable, 'tickShards')) || '1';
  const interval = Number(await param(resolveVariable, 'tickIntervalSeconds')) || 10;
  const count = Number(text);
  if (!Number.isInteger(count) || count < 1 || count > interval) {
    throw new Error(
      `stage parameter tickShards = ${JSON.stringify(text)}: expected a whole number from 1 to tickIntervalSeconds (${interval})`
    );
  }
  return count;
}

async function count({ resolveVariable }) {
  return String(await shards(resolveVariable));
}

async function workerConcurrency({ resolveVariable }) {
  return 2 * (await shards(resolveVariable));
}

module.exports = { count, workerConcurrency };
