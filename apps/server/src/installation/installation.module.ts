import { Module } from '@nestjs/common';
import { ApiKeysModule } from '../api-keys/api-keys.module.js';
import { EnvironmentsModule } from '../environments/environments.module.js';
import { InstallationService } from './installation.service.js';

@Module({ imports: [EnvironmentsModule, ApiKeysModule], providers: [InstallationService], exports: [InstallationService] })
export class InstallationModule {}
