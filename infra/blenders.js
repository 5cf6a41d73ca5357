// One render class per Blender the farm runs (`--param blenderVersions=4.5,5.0`, default 5.0): 5.0 keeps the render
// function and queues of serverless.yml and resources.yml; each other version gets its own urgent, normal and low
// queues (redriven to the render dead-letter queue), its own render function from its own image
// (`--param renderImageUris=4.5=<ECR URI>`, built from blender_image/Dockerfile with that version's build args), the
// render role's permissions on its queues, and the bot's to queue work there (backend/render/lanes.py names them:
// STUDIOBOT_BLENDER_VERSIONS, STUDIOBOT_BLENDER_QUEUES). Another version's lanes are not switched by the lanes'
// scheduler: its function takes all three at once.
const DEFAULT = '5.0';
const LANES = ['urgent', 'normal', 'low'];

const versions = async (resolveVariable) =>
  String(await resolveVariable('param:blenderVersions'))
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((version) => version.split('.').slice(0, 2).join('.'));

const others = async (resolveVariable) => (await versions(resolveVariable)).filter((v) => v !== DEFAULT);
const slug = (version) => `Blender${version.replace('.', '')}`; // RenderBlender45Queue
const queueId = (version, lane) => `Render${slug(version)}${lane === 'normal' ? '' : lane[0].toUpperCase() + lane.slice(1)}Queue`;

module.exports.versions = async ({ resolveVariable }) => (await versions(resolveVariable)).join(',');

// `cpu-4.5` → lane → queue URL, as JSON (CloudFormation fills in the URLs); "" with 5.0 alone.
module.exports.queues = async ({ resolveVariable }) => {
  const classes = {};
  for (const version of await others(resolveVariable)) {
    classes[`cpu-${version}`] = Object.fromEntries(LANES.map((lane) => [lane, `\${${queueId(version, lane)}}`]));
  }
  return Object.keys(classes).length ? { 'Fn::Sub': JSON.stringify(classes) } : '';
};

module.exports.resources = async ({ resolveVariable }) => {
  const extra = await others(resolveVariable);
  const resources = {};
  if (!extra.length) return { Resources: resources };
  const images = Object.fromEntries(
    String(await resolveVariable('param:renderImageUris'))
      .split(/[\s,]+/)
      .filter(Boolean)
      .map((pair) => pair.split('=')),
  );
  const prefix = await resolveVariable('self:custom.prefix');
  const timeout = Number(await resolveVariable('param:renderTimeoutS'));
  const concurrency = Number(await resolveVariable('param:renderConcurrency'));
  const environment = await resolveVariable('self:provider.environment');
  const arns = [];
  for (const version of extra) {
    if (!images[version]) {
      throw new Error(`no render image for Blender ${version}: pass --param renderImageUris=${version}=<ECR URI>`);
    }
    for (const lane of LANES) {
      resources[queueId(version, lane)] = {
        Type: 'AWS::SQS::Queue',
        Properties: {
          QueueName: `${prefix}-render-blender${version.replace('.', '')}${lane === 'normal' ? '' : `-${lane}`}`,
          VisibilityTimeout: 6 * timeout,
          MessageRetentionPeriod: 1209600,
          RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['RenderDeadLetterQueue', 'Arn'] }, maxReceiveCount: 3 },
        },
      };
      arns.push({ 'Fn::GetAtt': [queueId(version, lane), 'Arn'] });
    }
    const name = `${prefix}-render-blender${version.replace('.', '')}`;
    resources[`Render${slug(version)}LogGroup`] = {
      Type: 'AWS::Logs::LogGroup',
      Properties: { LogGroupName: `/aws/lambda/${name}`, RetentionInDays: 30 },
    };
    resources[`Render${slug(version)}LambdaFunction`] = {
      Type: 'AWS::Lambda::Function',
      DependsOn: [`Render${slug(version)}LogGroup`, 'RenderRole'],
      Properties: {
        FunctionName: name,
        Description: `Renders frames with Blender ${version} (its own image) from its render queues`,
        PackageType: 'Image',
        Code: { ImageUri: images[version] },
        Role: { 'Fn::GetAtt': ['RenderRole', 'Arn'] },
        MemorySize: Number(await resolveVariable('param:renderMemoryMb')),
        Timeout: timeout,
        EphemeralStorage: { Size: Number(await resolveVariable('param:renderEphemeralMb')) },
        Architectures: ['x86_64'],
        Environment: {
          Variables: {
            ...environment,
            STUDIOBOT_WORK_DIR: '/tmp/studiobot',
            STUDIOBOT_RENDER_TIMEOUT_S: String(timeout),
          },
        },
      },
    };
    for (const lane of LANES) {
      resources[`Render${slug(version)}${lane[0].toUpperCase() + lane.slice(1)}EventSource`] = {
        Type: 'AWS::Lambda::EventSourceMapping',
        DependsOn: ['BlenderQueuesRenderPolicy'], // the role may receive from the queue before Lambda checks
        Properties: {
          EventSourceArn: { 'Fn::GetAtt': [queueId(version, lane), 'Arn'] },
          FunctionName: { 'Fn::GetAtt': [`Render${slug(version)}LambdaFunction`, 'Arn'] },
          BatchSize: 1,
          ScalingConfig: { MaximumConcurrency: concurrency },
          FunctionResponseTypes: ['ReportBatchItemFailures'],
        },
      };
    }
  }
  resources.BlenderQueuesRenderPolicy = {
    Type: 'AWS::IAM::Policy',
    Properties: {
      PolicyName: 'render-other-blenders',
      Roles: [{ Ref: 'RenderRole' }],
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'OtherBlendersQueues', // their event sources, and the next phases a probe queues there
            Effect: 'Allow',
            Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes', 'sqs:SendMessage'],
            Resource: arns,
          },
          {
            Sid: 'OtherBlendersLogs',
            Effect: 'Allow',
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: extra.map((version) => ({
              'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${prefix}-render-blender${version.replace('.', '')}:*`,
            })),
          },
        ],
      },
    },
  };
  resources.BlenderQueuesBotPolicy = {
    Type: 'AWS::IAM::Policy',
    Properties: {
      PolicyName: 'enqueue-other-blenders',
      Roles: [{ Ref: 'BotRole' }],
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Sid: 'EnqueueFramesOtherBlenders', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: arns }],
      },
    },
  };
  return { Resources: resources };
};
