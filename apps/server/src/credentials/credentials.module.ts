import { Module } from '@nestjs/common';
import { SdkModule } from '../sdk/sdk.module.js';
import { CredentialRevocations } from './credential-revocations.js';

@Module({ imports: [SdkModule], providers: [CredentialRevocations], exports: [CredentialRevocations] })
export class CredentialsModule {}
