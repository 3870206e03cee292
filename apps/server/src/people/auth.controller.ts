import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post, Req, Res } from '@nestjs/common';
import { ApiCookieAuth, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { ServerResponse } from 'node:http';
import type { AviaryRequest } from '../common/actor.js';
import { Public, SameOrigin, WritableBy } from '../common/auth.js';
import { AcceptInviteDto, LoginDto, MeView, ResetPasswordDto, SetupDto, SignInOptionsView } from './dto/person.dto.js';
import { AuthService } from './auth.service.js';

type Request = AviaryRequest & { ip?: string };

@ApiTags('auth')
@SameOrigin()
@Controller('api/v1/auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Public()
  @Post('setup')
  @ApiOperation({ summary: 'Create the first admin with the setup link printed on the first start; signs them in' })
  setup(@Body() dto: SetupDto, @Req() req: Request, @Res({ passthrough: true }) res: ServerResponse) {
    return this.auth.setup(dto, req, res);
  }

  @Public()
  @Post('login')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Signed in: sets the aviary_session (HttpOnly) and aviary_csrf cookies' })
  @ApiOperation({ summary: 'Sign in with email and password' })
  login(@Body() dto: LoginDto, @Req() req: Request, @Res({ passthrough: true }) res: ServerResponse) {
    return this.auth.login(dto, req, res);
  }

  @Public()
  @Post('accept-invite')
  @ApiOperation({ summary: 'Choose a password with an invite link; signs the person in' })
  acceptInvite(@Body() dto: AcceptInviteDto, @Req() req: Request, @Res({ passthrough: true }) res: ServerResponse) {
    return this.auth.acceptInvite(dto, req, res);
  }

  @Public()
  @Post('reset-password')
  @ApiOperation({ summary: 'Choose a new password with a reset link; ends every other session' })
  resetPassword(@Body() dto: ResetPasswordDto, @Req() req: Request, @Res({ passthrough: true }) res: ServerResponse) {
    return this.auth.resetPassword(dto, req, res);
  }

  @Public()
  @Get('options')
  @ApiOkResponse({ type: SignInOptionsView })
  @ApiOperation({ summary: 'How people sign in here (password, single sign-on) and whether the first admin is still to be set up' })
  options() {
    return this.auth.options();
  }

  @ApiCookieAuth()
  @Get('me')
  @ApiOkResponse({ type: MeView })
  @ApiOperation({ summary: 'The signed-in person (role, environments), their session, and the CSRF cookie and header writes need' })
  me(@Req() req: Request) {
    return this.auth.me(req);
  }

  @WritableBy('viewer')
  @ApiCookieAuth()
  @Post('logout')
  @HttpCode(204)
  @ApiOperation({ summary: 'End this session' })
  logout(@Req() req: Request, @Res({ passthrough: true }) res: ServerResponse) {
    return this.auth.logout(req, res);
  }

  @ApiCookieAuth()
  @Get('sessions')
  @ApiOperation({ summary: "The signed-in person's open sessions" })
  sessions(@Req() req: Request) {
    return this.auth.sessionsOf(req);
  }

  @WritableBy('viewer')
  @ApiCookieAuth()
  @Delete('sessions/:id')
  @HttpCode(204)
  @ApiOperation({ summary: 'End one of your sessions' })
  revoke(@Req() req: Request, @Param('id', new ParseUUIDPipe({ version: undefined })) id: string) {
    return this.auth.revokeSession(req, id);
  }
}
