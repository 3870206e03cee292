import { Module } from '@nestjs/common';
import { StreamModule } from '../stream/stream.module.js';
import { CredentialRevocations } from './credential-revocations.js';

@Module({ imports: [StreamModule], providers: [CredentialRevocations], exports: [CredentialRevocations] })
export class CredentialsModule {}
