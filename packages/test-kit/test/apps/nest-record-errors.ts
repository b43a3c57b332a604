import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { catchError, throwError, type Observable } from 'rxjs';
import { setError } from '@meterline/core';

/**
 * Hands a handler's exception to the measured request before Nest's exception filter answers it (the filter
 * swallows it: with the one line alone, a 500 is recorded with error.type = "500").
 */
@Injectable()
export class RecordErrorsInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(
      catchError((error: unknown) => {
        // Express: the response itself; Fastify: the reply, whose `raw` is the response
        const reply = context.switchToHttp().getResponse<ServerResponse & { raw?: ServerResponse }>();
        setError(reply.raw ?? reply, error);
        return throwError(() => error);
      }),
    );
  }
}
