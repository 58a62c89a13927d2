/**
 * Lifetimes and events, after VS Code's `lifecycle.ts`: every registration returns a {@link Disposable},
 * and an {@link Event} is a function you call with a listener to subscribe.
 */

/** Something that holds a resource (a listener, a timer, a handle) until it is disposed. */
export interface Disposable {
  dispose(): void;
}

/** Subscribe with a listener; dispose the result to unsubscribe. */
export type Event<T> = (listener: (e: T) => void) => Disposable;

/** Turns a function into a {@link Disposable} that runs it at most once. */
export function toDisposable(fn: () => void): Disposable {
  let done = false;
  return {
    dispose() {
      if (!done) {
        done = true;
        fn();
      }
    },
  };
}

/** A bag of disposables, disposed together in reverse order of adding. */
export class DisposableStore implements Disposable {
  private readonly items: Disposable[] = [];
  private disposed = false;

  add<T extends Disposable>(d: T): T {
    if (this.disposed) d.dispose();
    else this.items.push(d);
    return d;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const errors: unknown[] = [];
    for (const d of this.items.splice(0).reverse()) {
      try {
        d.dispose();
      } catch (e) {
        errors.push(e);
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, 'several disposables failed');
  }
}

/**
 * Fires events to its listeners. A listener that throws does not stop the others; its error goes to
 * `onListenerError` (by default re-thrown on a later tick so it is not swallowed silently).
 */
export class Emitter<T> implements Disposable {
  private listeners = new Set<(e: T) => void>();

  constructor(
    private readonly onListenerError: (err: unknown) => void = (err) => queueMicrotask(() => { throw err; }),
  ) {}

  readonly event: Event<T> = (listener) => {
    const wrapped = (e: T) => listener(e);
    this.listeners.add(wrapped);
    return toDisposable(() => this.listeners.delete(wrapped));
  };

  fire(e: T): void {
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  dispose(): void {
    this.listeners.clear();
  }
}
