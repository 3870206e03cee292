import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { ApiKeysService } from '../api-keys/api-keys.service.js';
import { SYSTEM_ACTOR } from '../common/actor.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { ChangeLogService } from '../changes/change-log.service.js';
import { sql } from '../database/sql.js';
import { EnvironmentsService } from '../environments/environments.service.js';

export const FIRST_ENVIRONMENTS = ['development', 'production'];

/** First start of an installation: the environments `development` and `production` and the
 *  first admin key (AVIARY_ADMIN_TOKEN, or a generated one to print once). Exactly one instance
 *  does it, even when several start at once. */
@Injectable()
export class InstallationService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Installation');
  /** Set on the first start when no AVIARY_ADMIN_TOKEN was given: print it, then forget it. */
  generatedAdminKey?: string;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly changes: ChangeLogService,
    private readonly environments: EnvironmentsService,
    private readonly apiKeys: ApiKeysService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const generated = await this.changes.write(SYSTEM_ACTOR, async (tx) => {
      const claimed = await sql(tx.manager, 'INSERT INTO installation (id) VALUES (1) ON CONFLICT DO NOTHING RETURNING id');
      if (claimed.length === 0) return undefined;
      for (const key of FIRST_ENVIRONMENTS) {
        await this.environments.createIn(tx, { key, name: key[0].toUpperCase() + key.slice(1), reason: 'first start' });
      }
      const created = await this.apiKeys.createIn(
        tx,
        { name: 'first admin key', kind: 'admin', reason: 'first start' },
        this.config.adminToken,
      );
      this.logger.log(`First start: created environments ${FIRST_ENVIRONMENTS.join(', ')} and the admin key ${created.prefix}…`);
      return this.config.adminToken ? undefined : created.secret;
    });
    this.generatedAdminKey = generated;
  }
}
