import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { ApiKeysModule } from './api-keys/api-keys.module.js';
import { AuditModule } from './audit/audit.module.js';
import { ChangesModule } from './changes/changes.module.js';
import { CohortsModule } from './cohorts/cohorts.module.js';
import { AuthGuard } from './common/auth.js';
import { AuthFailures } from './common/auth-failures.js';
import { RoleCheck } from './common/role-check.js';
import { HttpExceptionFilter } from './common/http-exception.filter.js';
import { RateLimitGuard, rateLimitOptions } from './common/rate-limit.js';
import { createValidationPipe } from './common/validation.js';
import { APP_CONFIG, type AppConfig } from './config/config.js';
import { ConfigModule } from './config/config.module.js';
import { DashboardModule } from './dashboard/dashboard.module.js';
import { DatabaseModule } from './database/database.module.js';
import { EnvironmentsModule } from './environments/environments.module.js';
import { EvaluateModule } from './evaluate/evaluate.module.js';
import { FlagsModule } from './flags/flags.module.js';
import { HealthModule } from './health/health.module.js';
import { InstallationModule } from './installation/installation.module.js';
import { ObservabilityModule } from './observability/observability.module.js';
import { PeopleModule } from './people/people.module.js';
import { PatternsModule } from './patterns/patterns.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { OfrepModule } from './ofrep/ofrep.module.js';
import { RolloutsModule } from './rollouts/rollouts.module.js';
import { RetentionModule } from './retention/retention.module.js';
import { RulesetModule } from './ruleset/ruleset.module.js';
import { SdkModule } from './sdk/sdk.module.js';
import { WebhooksModule } from './webhooks/webhooks.module.js';

@Module({})
export class AppModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.register(config),
        DatabaseModule,
        AuditModule,
        ChangesModule,
        RulesetModule,
        EnvironmentsModule,
        FlagsModule,
        CohortsModule,
        ApiKeysModule,
        PeopleModule,
        EvaluateModule,
        InstallationModule,
        PatternsModule,
        ObservabilityModule,
        HealthModule,
        ThrottlerModule.forRootAsync({ inject: [APP_CONFIG], useFactory: rateLimitOptions }),
        SdkModule,
        RetentionModule,
        MetricsModule,
        RolloutsModule,
        WebhooksModule,
        OfrepModule,
        DashboardModule,
      ],
      providers: [
        { provide: APP_PIPE, useFactory: createValidationPipe },
        { provide: APP_FILTER, useClass: HttpExceptionFilter },
        AuthFailures,
        RoleCheck,
        { provide: APP_GUARD, useClass: AuthGuard },
        // After the auth guard: limits are per API key.
        { provide: APP_GUARD, useClass: RateLimitGuard },
      ],
    };
  }
}
