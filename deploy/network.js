// The worker's network mode, from the stage parameters, checked before anything
// is packaged: outside any VPC (the default), or in the VPC given by `vpcId`,
// `vpcSubnetIds` and `vpcSecurityGroupIds`, where private Amazon MQ brokers are
// reachable. `vpcEndpoints=true` also creates the endpoints the worker calls AWS
// through, for subnets with no NAT route.
//
// serverless.yml takes the worker's checkov suppressions from here: a function
// outside a VPC is a documented choice (CKV_AWS_117), one inside it is not.
'use strict';

async function param(resolveVariable, name) {
  const value = await resolveVariable(`param:${name}, ""`);
  return String(value ?? '').trim();
}

function list(text) {
  return text.split(',').map((s) => s.trim()).filter(Boolean);
}

function check(field, values, prefix) {
  for (const value of values) {
    if (!value.startsWith(prefix)) {
      throw new Error(`stage parameter ${field}: "${value}" is not an ID starting with "${prefix}" (comma-separated, e.g. ${prefix}0abc1234)`);
    }
  }
}

// Validates the VPC parameters together; answers whether the worker runs in a VPC.
async function inVpc(resolveVariable) {
  const subnets = list(await param(resolveVariable, 'vpcSubnetIds'));
  const groups = list(await param(resolveVariable, 'vpcSecurityGroupIds'));
  const vpc = await param(resolveVariable, 'vpcId');
  const endpoints = await param(resolveVariable, 'vpcEndpoints');
  const routeTables = list(await param(resolveVariable, 'vpcRouteTableIds'));
  if (!['true', 'false', ''].includes(endpoints)) {
    throw new Error(`stage parameter vpcEndpoints: "${endpoints}" is not true or false`);
  }
  if (subnets.length === 0) {
    const stray = { vpcSecurityGroupIds: groups.length, vpcId: vpc, vpcRouteTableIds: routeTables.length, vpcEndpoints: endpoints === 'true' };
    const set = Object.keys(stray).filter((k) => stray[k]);
    if (set.length) {
      throw new Error(`stage parameter${set.length > 1 ? 's' : ''} ${set.join(', ')} set without vpcSubnetIds: give the worker's subnets too, or leave the VPC parameters empty`);
    }
    return false;
  }
  check('vpcSubnetIds', subnets, 'subnet-');
  check('vpcSecurityGroupIds', groups, 'sg-');
  check('vpcRouteTableIds', routeTables, 'rtb-');
  if (groups.length === 0) throw new Error('stage parameter vpcSecurityGroupIds is empty: a worker in a VPC needs at least one security group (e.g. sg-0abc1234)');
  if (!vpc.startsWith('vpc-')) throw new Error(`stage parameter vpcId: "${vpc}" is not a VPC ID (e.g. vpc-0abc1234); the worker's network permissions are limited to this VPC`);
  if (endpoints === 'true' && routeTables.length === 0) {
    throw new Error('stage parameter vpcRouteTableIds is empty: vpcEndpoints=true creates the S3 gateway endpoint, which needs the route tables of the worker\'s subnets (e.g. rtb-0abc1234)');
  }
  return true;
}

const WORKER_SKIPS = [
  {
    id: 'CKV_AWS_116',
    comment: 'Invoked by the SQS event source mapping, where a function DLQ never applies; a tick that fails is worthless a minute later, which is why the tick queue keeps messages 60 seconds.',
  },
  {
    id: 'CKV_AWS_173',
    comment: 'The environment holds settings, never credentials; secrets are fetched from Secrets Manager by ARN at cold start. Lambda encrypts it at rest with an AWS-managed key.',
  },
];

const OUTSIDE_VPC = {
  id: 'CKV_AWS_117',
  comment: 'Deployed without vpcSubnetIds: the worker calls only public AWS APIs over TLS, so a VPC would need NAT or endpoints and isolate nothing. Private Amazon MQ brokers need the VPC mode (README "Private brokers").',
};

async function workerCheckovSkips({ resolveVariable }) {
  return (await inVpc(resolveVariable)) ? WORKER_SKIPS : [...WORKER_SKIPS, OUTSIDE_VPC];
}

module.exports = { workerCheckovSkips };
