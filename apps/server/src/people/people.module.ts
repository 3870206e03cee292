import { Module } from '@nestjs/common';
import { CredentialsModule } from '../credentials/credentials.module.js';
import { AuthController } from './auth.controller.js';
import { AuthService } from './auth.service.js';
import { FirstRunService } from './first-run.service.js';
import { LoginThrottle } from './login-throttle.js';
import { OidcController } from './oidc.controller.js';
import { OidcService } from './oidc.service.js';
import { PeopleController } from './people.controller.js';
import { PeopleService } from './people.service.js';
import { SessionsService } from './sessions.service.js';

@Module({
  imports: [CredentialsModule],
  controllers: [AuthController, OidcController, PeopleController],
  providers: [PeopleService, SessionsService, AuthService, LoginThrottle, FirstRunService, OidcService],
  exports: [SessionsService, FirstRunService],
})
export class PeopleModule {}
