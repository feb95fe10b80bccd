// The dashboard runs in browsers: its sources see the DOM's types (the rest of the project
// is checked without them, but lib references are program-wide, so keep DOM use in web/).
/// <reference lib="dom" />
/// <reference lib="dom.iterable" />

declare module '*.css';
