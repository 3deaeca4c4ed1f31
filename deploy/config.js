// The worker's configuration, as the deployment passes it: the multi-service JSON
// document read from the file named by the stage parameter `autoscalerConfigFile`
// (a path relative to the repository), else the `autoscalerConfig` parameter's text,
// else nothing (single-service mode, from the other stage parameters).
//
// serverless.yml uses it as `${file(./deploy/config.js):document}`, and
// `listsQueues` for the one permission a queue name prefix needs,
// `readsCloudwatch`, `anticipates`, `kinesisStreamArns` and
// `autoScalingGroupArns` likewise; dashboard.js uses `services()` to draw one
// row per configured service.
'use strict';

const fs = require('fs');
const path = require('path');

// Lambda allows 4 KB for all of a function's environment variables together; the
// other variables take about 600 bytes.
const MAX_DOCUMENT_BYTES = 3400;

async function param(resolveVariable, name) {
  const value = await resolveVariable(`param:${name}, ""`);
  return typeof value === 'string' ? value.trim() : String(value ?? '');
}

// The document as an object, with where it came from; null in single-service mode.
async function load(resolveVariable) {
  const file = await param(resolveVariable, 'autoscalerConfigFile');
  const inline = await param(resolveVariable, 'autoscalerConfig');
  if (file && inline) {
    throw new Error(
      'stage parameters autoscalerConfigFile and autoscalerConfig are both set: ' +
        'set one of them (the file is the usual way; the parameter is for generated documents)'
    );
  }
  if (!file && !inline) return null;
  let text = inline;
  let origin = 'stage parameter autoscalerConfig';
  if (file) {
    const full = path.resolve(__dirname, '..', file);
    origin = `autoscalerConfigFile ${file}`;
    try {
      text = fs.readFileSync(full, 'utf8');
    } catch (e) {
      throw new Error(`${origin}: cannot read ${full} (${e.code || e.message}); give a path relative to the repository, e.g. autoscaler.json`);
    }
  }
  let document;
  try {
    document = JSON.parse(text);
  } catch (e) {
    throw new Error(`${origin}: not valid JSON (${e.message}); check it with \`fast-autoscaler --config FILE check-config\``);
  }
  if (document === null || typeof document !== 'object' || !Array.isArray(document.services)) {
    throw new Error(`${origin}: must be a JSON object with a "services" array (see README "Several services")`);
  }
  return { document, origin };
}

// The compact document for the worker's AUTOSCALER_CONFIG, or "" in single-service mode.
async function document({ resolveVariable }) {
  const loaded = await load(resolveVariable);
  if (!loaded) return '';
  const compact = JSON.stringify(loaded.document);
  const bytes = Buffer.byteLength(compact, 'utf8');
  if (bytes > MAX_DOCUMENT_BYTES) {
    throw new Error(
      `${loaded.origin}: ${bytes} bytes once compacted, above the ${MAX_DOCUMENT_BYTES} that fit in ` +
        "Lambda's 4 KB of environment variables; move shared keys into \"defaults\""
    );
  }
  return compact;
}

// The label of every configured target, as the worker's `Service` metric
// dimension names it: `cluster/service` for an ECS service (its `target`
// object, or its own `cluster` and `service`), `type:name` for another kind
// (`ec2_asg:gpu-workers`), as TargetId::label does in the core.
async function services(resolveVariable) {
  const loaded = await load(resolveVariable);
  if (!loaded) {
    const cluster = await param(resolveVariable, 'ecsClusterName');
    const service = await param(resolveVariable, 'ecsServiceName');
    return cluster && service ? [`${cluster}/${service}`] : [];
  }
  return loaded.document.services.map((s, i) => {
    const target = s && s.target ? s.target : { type: 'ecs_service', ...(s || {}) };
    if (target.type === 'ecs_service') {
      if (typeof target.cluster !== 'string' || typeof target.service !== 'string') {
        throw new Error(`${loaded.origin}: services[${i}] needs "cluster" and "service" strings, or a "target" object`);
      }
      return `${target.cluster}/${target.service}`;
    }
    if (typeof target.type !== 'string' || typeof target.name !== 'string') {
      throw new Error(`${loaded.origin}: services[${i}].target needs "type" and "name" strings`);
    }
    return `${target.type}:${target.name}`;
  });
}

// The names of the Auto Scaling groups the document's services scale.
function groupsOf(document) {
  return document.services
    .filter((s) => s && s.target && s.target.type === 'ec2_asg' && typeof s.target.name === 'string')
    .map((s) => s.target.name.trim());
}

// The stage parameter autoScalingGroupArns, after checking that it covers
// every group a service scales: the worker may call SetDesiredCapacity on these
// ARNs only, and a group left out would hold its service with an access error
// at run time instead of failing here. The group's id in the ARN may be `*`.
async function autoScalingGroupArns({ resolveVariable }) {
  const arns = (await param(resolveVariable, 'autoScalingGroupArns'))
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  const shape = /^arn:aws[a-z-]*:autoscaling:[a-z0-9-]+:\d{12}:autoScalingGroup:[^:]+:autoScalingGroupName\/([!-9;-~]+)$/;
  for (const arn of arns) {
    if (!shape.test(arn)) {
      throw new Error(
        `stage parameter autoScalingGroupArns: "${arn}" is not an Auto Scaling group ARN ` +
          '(arn:aws:autoscaling:<region>:<account>:autoScalingGroup:*:autoScalingGroupName/<name>)'
      );
    }
  }
  const loaded = await load(resolveVariable);
  const groups = loaded ? groupsOf(loaded.document) : [];
  const covers = (arn, group) => {
    const pattern = arn.match(shape)[1];
    const regex = new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
    return regex.test(group);
  };
  for (const group of groups) {
    if (!arns.some((arn) => covers(arn, group))) {
      throw new Error(
        `${loaded.origin}: a service scales Auto Scaling group "${group}", which stage parameter autoScalingGroupArns ` +
          `does not list; add arn:aws:autoscaling:<region>:<account>:autoScalingGroup:*:autoScalingGroupName/${group}`
      );
    }
  }
  return arns.join(',');
}

// "true" when some provider lists queues by name prefix (an SQS
// queue_name_prefix): only then may the worker call sqs:ListQueues.
async function listsQueues({ resolveVariable }) {
  const loaded = await load(resolveVariable);
  if (!loaded) return 'false';
  const uses = (provider) => Boolean(provider && provider.type === 'sqs' && provider.queue_name_prefix);
  const any = loaded.document.services.some(
    (s) => uses(s && s.provider) || (Array.isArray(s && s.providers) && s.providers.some(uses))
  );
  return any ? 'true' : 'false';
}

// "true" when some service reads a CloudWatch metric as its backlog (the
// cloudwatch and kinesis providers) or an SQS queue's oldest message age: only then, or with
// amqCloudwatchFallback, may the worker call cloudwatch:GetMetricData.
async function readsCloudwatch({ resolveVariable }) {
  const loaded = await load(resolveVariable);
  if (!loaded) return 'false';
  const uses = (provider) =>
    Boolean(
      provider &&
        (provider.type === 'cloudwatch' ||
          provider.type === 'kinesis' ||
          (provider.type === 'sqs' && provider.oldest_message_age))
    );
  const any = loaded.document.services.some(
    (s) => uses(s && s.provider) || (Array.isArray(s && s.providers) && s.providers.some(uses))
  );
  return any ? 'true' : 'false';
}

// "true" when some service anticipates its recurring surges (`anticipation` on or
// forecast_only, in the service or in "defaults"): the worker then learns them
// from CloudWatch (cloudwatch:GetMetricData) and keeps them under forecasts/ in
// the state bucket.
async function anticipates({ resolveVariable }) {
  const loaded = await load(resolveVariable);
  if (!loaded) return 'false';
  const { document } = loaded;
  const on = (v) => typeof v === 'string' && ['on', 'forecast_only'].includes(v.trim().toLowerCase());
  const inherited = on(document.defaults && document.defaults.anticipation);
  const any = document.services.some((s) =>
    s && s.anticipation !== undefined ? on(s.anticipation) : inherited
  );
  return any ? 'true' : 'false';
}

// Every provider of every service in the document.
function providersOf(document) {
  return document.services.flatMap((s) => [
    ...(s && s.provider ? [s.provider] : []),
    ...(Array.isArray(s && s.providers) ? s.providers : []),
  ]);
}

// The stage parameter kinesisStreamArns, after checking that it covers every
// stream a kinesis provider reads: the worker may call DescribeStreamSummary on
// these ARNs only, and a stream left out would hold its service with an access
// error at run time instead of failing here.
async function kinesisStreamArns({ resolveVariable }) {
  const arns = (await param(resolveVariable, 'kinesisStreamArns'))
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  for (const arn of arns) {
    if (!/^arn:aws[a-z-]*:kinesis:[a-z0-9-]+:\d{12}:stream\/[A-Za-z0-9_.*-]+$/.test(arn)) {
      throw new Error(
        `stage parameter kinesisStreamArns: "${arn}" is not a stream ARN (arn:aws:kinesis:<region>:<account>:stream/<name>)`
      );
    }
  }
  const loaded = await load(resolveVariable);
  const streams = loaded
    ? providersOf(loaded.document)
        .filter((p) => p && p.type === 'kinesis' && typeof p.stream_name === 'string')
        .map((p) => p.stream_name.trim())
    : [];
  const covers = (arn, stream) => {
    const pattern = arn.split(':stream/')[1];
    const regex = new RegExp(`^${pattern.replace(/[.]/g, '\\.').replace(/\*/g, '.*')}$`);
    return regex.test(stream);
  };
  for (const stream of streams) {
    if (!arns.some((arn) => covers(arn, stream))) {
      throw new Error(
        `${loaded.origin}: the kinesis provider reads stream "${stream}", which stage parameter kinesisStreamArns ` +
          `does not list; add arn:aws:kinesis:<region>:<account>:stream/${stream}`
      );
    }
  }
  return arns.join(',');
}

module.exports = {
  document,
  services,
  listsQueues,
  readsCloudwatch,
  anticipates,
  kinesisStreamArns,
  autoScalingGroupArns,
};
