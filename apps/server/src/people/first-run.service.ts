import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { PeopleService } from './people.service.js';

/** With nobody to sign in: the first admin from AVIARY_ADMIN_EMAIL + AVIARY_ADMIN_PASSWORD, else
 *  a one-time setup link for `main.ts` to print. Both are ignored once any person exists. */
@Injectable()
export class FirstRunService implements OnApplicationBootstrap {
  private readonly logger = new Logger('People');
  /** Set when nobody exists and no admin was configured: print it, then forget it. */
  setupUrl?: string;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly people: PeopleService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (await this.people.anyoneExists()) return;
    const admin = this.config.people.bootstrapAdmin;
    if (admin) {
      const created = await this.people.createFirstAdmin({ ...admin, name: admin.email.split('@')[0] });
      if (created) this.logger.log(`Created the first admin ${created.email} (AVIARY_ADMIN_EMAIL)`);
      return;
    }
    this.setupUrl = await this.people.createSetupLink();
  }
}
