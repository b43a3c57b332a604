import { OTHER_METHOD } from './constants.js';

const STATUS_STRINGS: string[] = [];
for (let s = 0; s < 1000; s++) STATUS_STRINGS.push(String(s));

/** `error.type` of a server error answered without an exception: the status code, as a shared string. */
export function statusErrorType(status: number): string {
  return STATUS_STRINGS[status];
}

/** `error.type` for a thrown value: the exception's class name, as semantic conventions ask. */
export function errorTypeOf(error: unknown): string {
  if (error !== null && typeof error === 'object') {
    const ctor = (error as { constructor?: { name?: unknown } }).constructor;
    if (ctor !== undefined && typeof ctor.name === 'string' && ctor.name !== '' && ctor.name !== 'Object') {
      return ctor.name;
    }
    const name = (error as { name?: unknown }).name;
    if (typeof name === 'string' && name !== '') return name;
  }
  return OTHER_METHOD;
}
