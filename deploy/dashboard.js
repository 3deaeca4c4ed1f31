// The CloudWatch dashboard deployed with the stack, drawn from the metrics the
// worker emits in its EMF log lines (worker/src/emf.rs): a heartbeat row for the
// whole autoscaler, then one row per configured service.
//
// serverless.yml uses it as `${file(./deploy/dashboard.js):body}`; the deployment
// test checks that every metric named here is one the worker really emits.
'use strict';

const { services } = require('./config');

const NAMESPACE = 'FastAutoscaler';
const PERIOD = 60;

function widget(x, y, width, title, metrics, extra = {}) {
  return {
    type: 'metric',
    x,
    y,
    width,
    height: 6,
    properties: { title, metrics, view: 'timeSeries', stacked: false, period: PERIOD, ...extra },
  };
}

// One metric line: [namespace, name, dimension..., {options}].
function line(name, dimensions, options) {
  return [NAMESPACE, name, ...dimensions, options];
}

function heartbeat(region) {
  return [
    widget(0, 0, 12, 'Heartbeat: ticks evaluated and dropped per minute', [
      line('TicksEvaluated', [], { stat: 'Sum', label: 'ticks evaluated' }),
      line('TicksDropped', [], { stat: 'Sum', label: 'ticks dropped (malformed or stale)' }),
      line('HeldDecisions', [], { stat: 'Sum', label: 'held decisions (all services)' }),
    ], { region }),
    widget(12, 0, 12, 'Tick lag: evaluation start against the tick due time', [
      line('EvaluatedTickLagMs', [], { stat: 'p50', label: 'p50' }),
      line('EvaluatedTickLagMs', [], { stat: 'Maximum', label: 'max' }),
    ], { region, yAxis: { left: { label: 'ms', showUnits: false } } }),
  ];
}

function serviceRow(id, y, region) {
  const dim = ['Service', id];
  return [
    widget(0, y, 12, `${id}: backlog against tasks`, [
      line('VisibleMessages', dim, { stat: 'Maximum', label: 'visible messages' }),
      line('InFlightMessages', dim, { stat: 'Maximum', label: 'in-flight messages' }),
      line('NewDesiredCount', dim, { stat: 'Maximum', label: 'desired tasks', yAxis: 'right' }),
      line('RunningCount', dim, { stat: 'Minimum', label: 'running tasks', yAxis: 'right' }),
      // Only at ticks that prepare for a recurring surge (anticipation).
      line('AnticipatedTasks', dim, { stat: 'Maximum', label: 'tasks added ahead of a surge', yAxis: 'right' }),
    ], { region }),
    widget(12, y, 6, `${id}: actions, holds, pause`, [
      line('ScalingActions', dim, { stat: 'Sum', label: 'scaling actions' }),
      line('Errors', dim, { stat: 'Sum', label: 'held decisions' }),
      line('Paused', dim, { stat: 'Maximum', label: 'paused' }),
    ], { region }),
    widget(18, y, 6, `${id}: tick lag (ms), oldest message (s)`, [
      line('TickLagMs', dim, { stat: 'p50', label: 'tick lag p50' }),
      line('TickLagMs', dim, { stat: 'Maximum', label: 'tick lag max' }),
      // Only for providers that read it (SQS oldest_message_age).
      line('OldestMessageAge', dim, { stat: 'Maximum', label: 'oldest message', yAxis: 'right' }),
    ], { region }),
  ];
}

async function body({ resolveVariable }) {
  const region = await resolveVariable('self:provider.region');
  const ids = await services(resolveVariable);
  const widgets = heartbeat(region);
  ids.forEach((id, i) => widgets.push(...serviceRow(id, 6 * (i + 1), region)));
  if (ids.length === 0) {
    widgets.push({
      type: 'text',
      x: 0,
      y: 6,
      width: 24,
      height: 2,
      properties: { markdown: 'No service is configured: set autoscalerConfigFile, or ecsClusterName and ecsServiceName.' },
    });
  }
  return JSON.stringify({ widgets });
}

module.exports = { body };
