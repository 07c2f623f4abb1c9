/** The part of js-yaml (a dependency of the test tooling, without types of its own) that the deploy tests use. */
declare module 'js-yaml' {
  export function load(text: string): unknown;
}
