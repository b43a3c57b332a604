/**
 * The conformance app as a NestJS module, shared by the Express and the Fastify platform (apps/nest-express.ts,
 * apps/nest-fastify.ts). Written with TypeScript's legacy decorators (`experimentalDecorators` in this
 * package's tsconfig, honoured by vitest and tsx alike); nothing relies on `emitDecoratorMetadata`, which esbuild
 * (tsx) does not emit: no constructor injection, every parameter decorator names what it reads.
 */
import 'reflect-metadata';
import {
  Body,
  Controller,
  Get,
  Header,
  HttpCode,
  HttpException,
  HttpStatus,
  Module,
  NotFoundException,
  Param,
  Post,
  RequestMethod,
  Res,
  StreamableFile,
  UseInterceptors,
  VERSION_NEUTRAL,
  VersioningType,
  type INestApplication,
} from '@nestjs/common';
import { PassThrough, Readable } from 'node:stream';
import { CHUNKS, COMPRESSED, ConformanceError, FIXED_BODY } from '../scenarios.js';
import { RecordErrorsInterceptor } from './nest-record-errors.js';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What both platforms' replies offer for a status set at run time (`@Res({ passthrough: true })`). */
interface StatusReply {
  status(code: number): unknown;
}

/** The scenarios' own paths: served without the global prefix and version (see `configureNest`). */
@Controller({ version: VERSION_NEUTRAL })
export class ConformanceController {
  @Get('static')
  static(): string {
    return 'static';
  }

  @Get('items/:id')
  item(@Param('id') id: string): { id: string } {
    return { id };
  }

  @Get('status/:code')
  status(@Param('code') code: string, @Res({ passthrough: true }) reply: StatusReply): string {
    reply.status(Number(code));
    return 'status';
  }

  @Get('throw-sync')
  throwSync(): never {
    throw new TypeError('sync');
  }

  @Get('throw-async')
  async throwAsync(): Promise<never> {
    await wait(1);
    throw new ConformanceError('async');
  }

  @Get('slow')
  async slow(): Promise<string> {
    await wait(300);
    return 'slow';
  }

  @Get('stream-slow')
  streamSlow(): StreamableFile {
    const body = new PassThrough();
    body.write('first');
    setTimeout(() => body.end('rest'), 300);
    return new StreamableFile(body, { type: 'text/plain' });
  }

  // Nest serialises a returned Buffer as JSON on Express: bytes go out as a StreamableFile of known length
  @Post('echo')
  @HttpCode(200)
  echo(@Body() body: Buffer): StreamableFile {
    return new StreamableFile(body, { type: 'application/octet-stream', length: body.length });
  }

  @Get('fixed')
  fixed(): string {
    return FIXED_BODY;
  }

  @Get('chunked')
  chunked(): StreamableFile {
    return new StreamableFile(Readable.from(CHUNKS), { type: 'text/plain' });
  }

  @Get('compressed')
  @Header('content-encoding', 'gzip')
  compressed(): StreamableFile {
    return new StreamableFile(COMPRESSED, { type: 'text/plain', length: COMPRESSED.length });
  }

  @Get('health')
  health(): string {
    return 'ok';
  }
}

/** Nested resources under the global prefix and URI version: `/api/v1/orgs/:org`, `/api/v1/orgs/:org/repos/:repo`. */
@Controller({ path: 'orgs/:org', version: '1' })
export class OrgsController {
  @Get()
  org(): string {
    return 'org';
  }

  @Get('repos/:repo')
  repo(): string {
    return 'repo';
  }
}

export class UserGoneError extends Error {}

/** The answer for user `id`: Nest's own exceptions and a plain error for some ids, the user for the others. */
function userAnswer(id: string): { id: string } {
  if (id === 'missing') throw new NotFoundException(`no user ${id}`);
  if (id === 'gone') throw new UserGoneError(`user ${id} is gone`);
  if (id === 'busy') throw new HttpException('try later', HttpStatus.SERVICE_UNAVAILABLE);
  return { id };
}

/** Nest's own exceptions and plain errors on a versioned, prefixed route: `/api/v1/users/:id`, `/api/v2/users/:id`. */
@Controller({ path: 'users', version: ['1', '2'] })
export class UsersController {
  @Get(':id')
  user(@Param('id') id: string): { id: string } {
    return userAnswer(id);
  }
}

/** The same answers as UsersController, with the exception handed to the metrics first: `/api/v1/recorded/:id`. */
@Controller({ path: 'recorded', version: '1' })
@UseInterceptors(RecordErrorsInterceptor)
export class RecordedController {
  @Get(':id')
  user(@Param('id') id: string): { id: string } {
    return userAnswer(id);
  }
}

@Module({ controllers: [ConformanceController, OrgsController, UsersController, RecordedController] })
export class ConformanceModule {}

/** The scenarios' paths (ConformanceController) stay outside the `api` prefix; everything else is under it. */
const UNPREFIXED = [
  'static',
  'items/:id',
  'status/:code',
  'throw-sync',
  'throw-async',
  'slow',
  'stream-slow',
  'echo',
  'fixed',
  'chunked',
  'compressed',
  'health',
];

/** What a Nest app of either platform sets up alike: global prefix and URI versioning. */
export function configureNest(app: INestApplication): void {
  app.setGlobalPrefix('api', { exclude: UNPREFIXED.map((path) => ({ path, method: RequestMethod.ALL })) });
  app.enableVersioning({ type: VersioningType.URI });
}
