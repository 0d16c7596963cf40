// The local demo: the main job end to end on one machine.
export { demoCommand, DEMO_USAGE } from './demo.js';
