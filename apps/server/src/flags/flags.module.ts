import { Module } from '@nestjs/common';
import { FlagConfigsController } from './flag-configs.controller.js';
import { FlagConfigsService } from './flag-configs.service.js';
import { FlagsController } from './flags.controller.js';
import { FlagsService } from './flags.service.js';

@Module({
  controllers: [FlagsController, FlagConfigsController],
  providers: [FlagsService, FlagConfigsService],
  exports: [FlagsService, FlagConfigsService],
})
export class FlagsModule {}
