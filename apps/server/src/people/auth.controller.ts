import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { ServerResponse } from 'node:http';
import type { AviaryRequest } from '../common/actor.js';
import { SessionOnly, SignIn } from '../common/auth.js';
import { AuthService } from './auth.service.js';
import { AcceptInviteDto, LoginDto, MeView, SessionView, SetupDto, SignInOptionsView } from './dto/person.dto.js';

/** Sign-in, sign-out and the signed-in person's own sessions (docs/people.md). */
@ApiTags('sign-in')
@ApiCookieAuth()
@Controller('api/v1/auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Get('options')
  @SignIn()
  @ApiOkResponse({ type: SignInOptionsView })
  @ApiOperation({ summary: 'How people can sign in here, and whether the first admin still has to be set up' })
  options() {
    return this.auth.options();
  }

  @Post('login')
  @SignIn()
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Signed in: sets the HttpOnly aviary_session and the readable aviary_csrf cookies' })
  @ApiOperation({ summary: 'Sign in with email and password' })
  login(@Req() req: AviaryRequest, @Res({ passthrough: true }) res: ServerResponse, @Body() dto: LoginDto) {
    return this.auth.login(req, res, dto);
  }

  @Post('setup')
  @SignIn()
  @HttpCode(204)
  @ApiOperation({ summary: 'First run: the setup link makes its opener the first admin, signed in' })
  setup(@Req() req: AviaryRequest, @Res({ passthrough: true }) res: ServerResponse, @Body() dto: SetupDto) {
    return this.auth.setup(req, res, dto);
  }

  @Post('accept-invite')
  @SignIn()
  @HttpCode(204)
  @ApiOperation({ summary: 'An invite or password-reset link: choose a password, signed in' })
  acceptInvite(@Req() req: AviaryRequest, @Res({ passthrough: true }) res: ServerResponse, @Body() dto: AcceptInviteDto) {
    return this.auth.acceptLink(req, res, dto);
  }

  @Get('me')
  @SessionOnly()
  @ApiOkResponse({ type: MeView })
  @ApiOperation({ summary: 'The signed-in person, their role and environments, their session, and the CSRF token writes must send' })
  me(@Req() req: AviaryRequest) {
    return this.auth.me(req.person!);
  }

  @Post('logout')
  @SessionOnly()
  @HttpCode(204)
  @ApiOperation({ summary: 'End this session' })
  logout(@Req() req: AviaryRequest, @Res({ passthrough: true }) res: ServerResponse) {
    return this.auth.logout(req.person!, res);
  }

  @Get('sessions')
  @SessionOnly()
  @ApiOkResponse({ type: [SessionView] })
  @ApiOperation({ summary: "The signed-in person's sessions" })
  sessions(@Req() req: AviaryRequest) {
    return this.auth.sessions(req.person!.id);
  }

  @Delete('sessions/:id')
  @SessionOnly()
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'End one of your own sessions' })
  revoke(@Req() req: AviaryRequest, @Param('id', new ParseUUIDPipe({ version: undefined })) id: string) {
    return this.auth.revokeSession(req.person!.id, id);
  }
}
