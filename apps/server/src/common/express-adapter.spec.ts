import 'reflect-metadata';
import { Controller, Get, Module, Req, Res } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { IncomingMessage, Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AviaryExpressAdapter } from './express-adapter.js';

/** The parts of Express's request and response the probe uses. */
interface ExpressRequest { ip: string; path: string; query: unknown; get(name: string): string | undefined }
interface ExpressResponse { status(code: number): { json(body: unknown): void } }

@Controller()
class ProbeController {
  @Get('probe')
  probe(@Req() req: ExpressRequest, @Res() res: ExpressResponse): void {
    // Express's request and response methods, reached through the prototypes made at start.
    res.status(201).json({ ip: req.ip, host: req.get('host'), path: req.path, query: req.query });
  }
}

@Module({ controllers: [ProbeController] })
class ProbeModule {}

let app: NestExpressApplication;
let url: string;
/** Whether each request arrived with Express's prototype already, before Express saw it. */
const arrivedReady: boolean[] = [];

beforeAll(async () => {
  app = await NestFactory.create<NestExpressApplication>(ProbeModule, new AviaryExpressAdapter(), { logger: false });
  const express = app.getHttpAdapter().getInstance();
  (app.getHttpServer() as Server).prependListener('request', (req: IncomingMessage) => arrivedReady.push(Object.getPrototypeOf(req) === express.request));
  await app.listen(0, '127.0.0.1');
  url = await app.getUrl();
});

afterAll(() => app?.close());

describe('AviaryExpressAdapter', () => {
  it('makes requests with the prototype Express would give them, and Express still works on them', async () => {
    const res = await fetch(`${url}/probe?a=1`);
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ ip: '127.0.0.1', host: new URL(url).host, path: '/probe', query: { a: '1' } });
    expect(arrivedReady).toEqual([true]);
  });

  it('answers an unknown route with Nest 404', async () => {
    const res = await fetch(`${url}/nowhere`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { statusCode: number }).statusCode).toBe(404);
  });
});
