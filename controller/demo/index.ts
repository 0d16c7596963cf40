// The local demo: the main job end to end on one machine (the `xepa demo` verb in controller/cli drives it).
export { runDemo, type DemoOptions } from './demo.js';
