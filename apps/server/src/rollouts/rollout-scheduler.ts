import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { RolloutPlansService } from './rollout-plans.service.js';

/** Plans handled per tick at most; the rest wait for the next one. */
const BATCH = 100;

/** Runs in every instance: each tick (AVIARY_SCHEDULER_INTERVAL_MS) does the due steps and guard
 *  looks, each plan in its own transaction. Row locks make each step fire once across instances;
 *  everything lives in the database, so a restart resumes where the plans stand. */
@Injectable()
export class RolloutScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('RolloutScheduler');
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  private lastError?: string;

  constructor(
    private readonly plans: RolloutPlansService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.schedule();
  }

  /** Before the database closes: no new tick, and the one under way finishes. */
  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One pass over the due plans. */
  async tick(): Promise<void> {
    try {
      const due = await this.plans.duePlans(BATCH);
      for (const id of due) {
        if (this.stopped) return;
        try {
          await this.plans.runDue(id);
        } catch (err) {
          this.report(`Rollout plan ${id}: ${(err as Error).message}`);
        }
      }
      this.lastError = undefined;
    } catch (err) {
      this.report(`Looking for due rollout plans failed: ${(err as Error).message}`);
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => {
        this.running = undefined;
        this.schedule();
      });
    }, this.config.schedulerIntervalMs);
  }

  // A database outage would otherwise log the same line every tick.
  private report(message: string): void {
    if (message !== this.lastError) this.logger.error(message);
    this.lastError = message;
  }
}
