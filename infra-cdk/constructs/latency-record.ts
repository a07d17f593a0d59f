import { Stack } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as targets from 'aws-cdk-lib/aws-route53-targets';
import { Construct } from 'constructs';

export interface LatencyRecordProps {
  readonly hostedZoneId: string;
  readonly zoneName: string;
  /** The API's public name (customDomain.domainName). */
  readonly domainName: string;
  readonly domain: apigwv2.IDomainName;
  /** The regional alarm the health check follows (a plain metric alarm: Route 53 cannot follow math). */
  readonly healthAlarm: cloudwatch.IAlarm;
}

/**
 * This region's latency-routed alias record for the shared API name, with a health check that takes the
 * region out of DNS while its API alarm is firing. Each regional stack adds its own record (set
 * identifier = region), so no stack reaches into another region.
 *
 * The check follows a CloudWatch alarm rather than probing the endpoint: with mutual TLS, Route 53 health
 * checkers cannot present a client certificate, and the execute-api endpoint is disabled.
 */
export class LatencyRecord extends Construct {
  public readonly healthCheck: route53.HealthCheck;
  public readonly record: route53.ARecord;

  constructor(scope: Construct, id: string, props: LatencyRecordProps) {
    super(scope, id);
    const region = Stack.of(this).region;
    this.healthCheck = new route53.HealthCheck(this, 'HealthCheck', {
      type: route53.HealthCheckType.CLOUDWATCH_METRIC,
      alarmIdentifier: { region, name: props.healthAlarm.alarmName },
      // No data (an idle API) keeps the last verdict instead of flapping the region in or out.
      insufficientDataHealthStatus: route53.InsufficientDataHealthStatusEnum.LAST_KNOWN_STATUS,
    });
    this.record = new route53.ARecord(this, 'Record', {
      zone: route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', {
        hostedZoneId: props.hostedZoneId,
        zoneName: props.zoneName,
      }),
      // Trailing dot: a fully qualified name, not one relative to the zone.
      recordName: `${props.domainName}.`,
      target: route53.RecordTarget.fromAlias(
        new targets.ApiGatewayv2DomainProperties(
          props.domain.regionalDomainName,
          props.domain.regionalHostedZoneId,
        ),
      ),
      region,
      setIdentifier: region,
      healthCheck: this.healthCheck,
    });
  }
}
