import { Controller, Get, Redirect, Req, Res } from '@nestjs/common';
import { ApiFoundResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { ServerResponse } from 'node:http';
import type { AviaryRequest } from '../common/actor.js';
import { Public } from '../common/auth.js';
import { clientOf } from './auth.service.js';
import { OidcService } from './oidc.service.js';

type Request = AviaryRequest & { ip?: string };

/** Single sign-on: a browser opens `/login`, signs in at the provider, and lands on `/callback`, then on the dashboard. */
@ApiTags('auth')
@Public()
@Controller('api/v1/auth/oidc')
export class OidcController {
  constructor(private readonly oidc: OidcService) {}

  @Get('login')
  @Redirect()
  @ApiFoundResponse({ description: "To the OpenID provider's sign-in page" })
  @ApiOperation({ summary: 'Start single sign-on (open in the browser, not with fetch)' })
  async login(@Res({ passthrough: true }) res: ServerResponse) {
    return { url: await this.oidc.start(res), statusCode: 302 };
  }

  @Get('callback')
  @Redirect()
  @ApiFoundResponse({ description: 'Signed in: the session cookies are set and the browser goes to AVIARY_PUBLIC_URL' })
  @ApiOperation({ summary: "The OpenID provider's redirect back; 400 for a failed check (state, issuer), 401 when the provider refuses (expired code)" })
  async callback(@Req() req: Request, @Res({ passthrough: true }) res: ServerResponse) {
    return { url: await this.oidc.finish(req, res, clientOf(req)), statusCode: 302 };
  }
}
