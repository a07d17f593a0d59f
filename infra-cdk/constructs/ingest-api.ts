import { RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer, HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledge } from '../nag.js';
import type { ObservabilitySettings } from './ledger-function.js';

/** The unauthenticated liveness route gets its own small budget so it cannot eat the stage's. */
const HEALTH_RATE_LIMIT_PER_SECOND = 10;
const HEALTH_BURST_LIMIT = 20;

export type ApiAuth =
  | { readonly kind: 'iam' }
  | { readonly kind: 'jwt'; readonly issuer: string; readonly audience: readonly string[] };

export interface IngestApiProps {
  readonly apiName: string;
  readonly handler: lambda.IFunction;
  readonly auth: ApiAuth;
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
  readonly observability: ObservabilitySettings;
  /** With a (mutual TLS) custom domain the default execute-api endpoint is switched off. */
  readonly domainName?: apigwv2.IDomainName;
}

/**
 * The regional HTTP API in front of the ingest function.
 *
 * Routes: `GET /health` is the only unauthenticated one; `ANY /v1/{proxy+}` (the API) and
 * `GET /openapi.json` (its contract: not secret, but it maps the attack surface, and every caller is a
 * known client anyway) need the authorizer chosen by context: IAM (SigV4-signed calls from AWS principals
 * granted execute-api:Invoke) or JWT (bearer tokens from an OIDC issuer, checked for audience).
 * Anything else gets API Gateway's own 404 without reaching the function.
 */
export class IngestApi extends Construct {
  public readonly httpApi: apigwv2.HttpApi;
  public readonly stage: apigwv2.HttpStage;
  public readonly accessLogGroup: logs.LogGroup;
  /** `GET /health`, the only route without an authorizer. */
  public readonly healthRoute: apigwv2.HttpRoute;
  /** The URL clients call: the custom domain when there is one, else the execute-api URL. */
  public readonly url: string;

  constructor(scope: Construct, id: string, props: IngestApiProps) {
    super(scope, id);
    this.httpApi = new apigwv2.HttpApi(this, 'HttpApi', {
      apiName: props.apiName,
      description: 'Edge ledger transfer ingestion',
      createDefaultStage: false,
      disableExecuteApiEndpoint: props.domainName !== undefined,
      defaultAuthorizer: authorizerFor(props.auth),
    });
    const integration = new HttpLambdaIntegration('Ingest', props.handler, {
      payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0,
    });
    const [healthRoute] = this.httpApi.addRoutes({
      path: '/health',
      methods: [apigwv2.HttpMethod.GET],
      integration,
      authorizer: new apigwv2.HttpNoneAuthorizer(),
    });
    if (healthRoute === undefined) throw new Error('addRoutes returned no route for GET /health');
    this.healthRoute = healthRoute;
    acknowledge(
      healthRoute,
      ['AwsSolutions-APIG4'],
      'GET /health is the public liveness probe: no data, own low throttle; every other route has the authorizer.',
    );
    this.httpApi.addRoutes({ path: '/v1/{proxy+}', methods: [apigwv2.HttpMethod.ANY], integration });
    this.httpApi.addRoutes({ path: '/openapi.json', methods: [apigwv2.HttpMethod.GET], integration });

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      encryptionKey: props.observability.logKey,
      retention: props.observability.logRetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.stage = new apigwv2.HttpStage(this, 'Stage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.throttle.rateLimit, burstLimit: props.throttle.burstLimit },
      detailedMetricsEnabled: true,
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogGroup),
        format: ACCESS_LOG_FORMAT,
      },
      ...(props.domainName === undefined ? {} : { domainMapping: { domainName: props.domainName } }),
    });
    const cfnStage = this.stage.node.defaultChild as apigwv2.CfnStage;
    // RouteSettings is a raw JSON map in CloudFormation: keys are written as the template needs them.
    cfnStage.routeSettings = {
      'GET /health': {
        ThrottlingRateLimit: HEALTH_RATE_LIMIT_PER_SECOND,
        ThrottlingBurstLimit: HEALTH_BURST_LIMIT,
        DetailedMetricsEnabled: true,
      },
    };
    // Route settings name a route key, which must exist before the stage refers to it.
    cfnStage.node.addDependency(healthRoute);
    this.url = props.domainName === undefined ? this.stage.url : `https://${props.domainName.name}/`;
  }
}

function authorizerFor(auth: ApiAuth): apigwv2.IHttpRouteAuthorizer {
  if (auth.kind === 'iam') return new HttpIamAuthorizer();
  return new HttpJwtAuthorizer('JwtAuthorizer', auth.issuer, {
    jwtAudience: [...auth.audience],
    identitySource: ['$request.header.Authorization'],
  });
}

/** One JSON object per request; `-` where a field does not apply (no mTLS, IAM vs JWT caller). */
const ACCESS_LOG_FORMAT = AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    extendedRequestId: '$context.extendedRequestId',
    requestTime: '$context.requestTime',
    routeKey: '$context.routeKey',
    path: '$context.path',
    status: '$context.status',
    protocol: '$context.protocol',
    responseLength: '$context.responseLength',
    responseLatencyMs: '$context.responseLatency',
    integrationLatencyMs: '$context.integrationLatency',
    integrationStatus: '$context.integrationStatus',
    integrationError: '$context.integrationErrorMessage',
    authorizerError: '$context.authorizer.error',
    errorMessage: '$context.error.message',
    sourceIp: '$context.identity.sourceIp',
    userAgent: '$context.identity.userAgent',
    callerArn: '$context.identity.userArn',
    jwtSubject: '$context.authorizer.claims.sub',
    clientCertSubject: '$context.identity.clientCert.subjectDN',
    clientCertSerial: '$context.identity.clientCert.serialNumber',
  }),
);
