import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { AuthenticatedKey } from '../common/actor.js';
import { MAX_CLIENT_COUNT } from '../metrics/dto/metrics-report.dto.js';
import { BUCKET_MS, MetricsService } from '../metrics/metrics.service.js';

interface Arm {
  flag: string;
  enabled: boolean;
  variant: string | null;
  count: number;
}

/** Distinct arms held per key before a flush is forced, so memory stays bounded. */
const MAX_ARMS = 10_000;

/**
 * Exposures of OFREP evaluations, counted in memory and written through `MetricsService.record`
 * (the path SDK reports take) once per metrics bucket, so rollout guards count OFREP traffic
 * without a database write per evaluation. Bulk evaluations are not exposures (an SDK's
 * all-flags call is not either): the web provider evaluates from its cache, unseen here.
 */
@Injectable()
export class OfrepExposures implements OnApplicationShutdown {
  private readonly logger = new Logger('OfrepExposures');
  private pending = new Map<string, { key: AuthenticatedKey; arms: Map<string, Arm>; since: number }>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly metrics: MetricsService) {
    this.timer = setInterval(() => void this.flush(), BUCKET_MS);
    this.timer.unref();
  }

  record(key: AuthenticatedKey, flag: string, enabled: boolean, variant: string | undefined): void {
    let held = this.pending.get(key.id);
    if (held === undefined) this.pending.set(key.id, (held = { key, arms: new Map(), since: Date.now() }));
    const id = `${flag}\u0000${enabled}\u0000${variant ?? ''}`;
    const arm = held.arms.get(id);
    if (arm) arm.count++;
    else {
      held.arms.set(id, { flag, enabled, variant: variant ?? null, count: 1 });
      if (held.arms.size >= MAX_ARMS) void this.flush();
    }
  }

  /** Writes what was counted; a failed write is logged and dropped, as a lost SDK report would be. */
  async flush(): Promise<void> {
    const batches = this.pending;
    this.pending = new Map();
    const end = Date.now();
    for (const { key, arms, since } of batches.values()) {
      // A client key's report may add at most MAX_CLIENT_COUNT per row: larger counts go in several.
      const perReport = key.kind === 'client' ? MAX_CLIENT_COUNT : Number.MAX_SAFE_INTEGER;
      let rows = [...arms.values()];
      while (rows.length > 0) {
        const exposures = rows.map((arm) => ({ ...arm, count: Math.min(arm.count, perReport) }));
        rows = rows.filter((arm) => (arm.count -= perReport) > 0);
        await this.metrics.record(key, { start: since, end, exposures }).catch((e: Error) => this.logger.warn(`OFREP exposures not counted: ${e.message}`));
      }
    }
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
