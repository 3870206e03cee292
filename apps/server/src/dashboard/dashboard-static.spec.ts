import 'reflect-metadata';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveDashboard } from './dashboard-static.js';

@Module({})
class EmptyModule {}

/** A dashboard build of its own: the page, a hashed asset, a root file, and a file at an API's path. */
const dir = `${mkdtempSync(join(tmpdir(), 'aviary-dashboard-'))}/`;
let app: NestExpressApplication;
let url: string;

beforeAll(async () => {
  mkdirSync(`${dir}assets`);
  mkdirSync(`${dir}sdk/v1`, { recursive: true });
  writeFileSync(`${dir}index.html`, '<!doctype html><title>Aviary</title>');
  writeFileSync(`${dir}assets/app-1a2b3c.js`, 'console.log(1)');
  writeFileSync(`${dir}robots.txt`, 'User-agent: *');
  writeFileSync(`${dir}sdk/v1/ruleset`, 'not the API');
  app = await NestFactory.create<NestExpressApplication>(EmptyModule, { logger: false });
  expect(serveDashboard(app, dir)).toBe(true);
  await app.listen(0, '127.0.0.1');
  url = await app.getUrl();
});

afterAll(async () => {
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the dashboard on the API origin', () => {
  it('serves hashed assets for a year and the files of the build root for an hour', async () => {
    const asset = await fetch(`${url}/assets/app-1a2b3c.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const robots = await fetch(`${url}/robots.txt`);
    expect(await robots.text()).toBe('User-agent: *');
    expect(robots.headers.get('cache-control')).toBe('public, max-age=3600');
    expect((await fetch(`${url}/assets/missing.js`)).status).toBe(404);
  });

  it("answers the page for a client-side route that asks for HTML, and nothing else for the API's paths", async () => {
    const page = await fetch(`${url}/flags/new-checkout`, { headers: { accept: 'text/html' } });
    expect(await page.text()).toContain('<title>Aviary</title>');
    // A file at an API's path is never looked up: the request goes on to the API (here: none, a 404).
    const api = await fetch(`${url}/sdk/v1/ruleset`, { headers: { accept: 'text/html' } });
    expect(api.status).toBe(404);
    expect(await api.text()).not.toContain('not the API');
    expect((await fetch(`${url}/robots.txt`, { method: 'POST' })).status).toBe(404);
  });
});
