// The sshd test fixture lives in src/demo/sshd.ts (the demo farm uses it too).
export * from '../../src/demo/sshd';
