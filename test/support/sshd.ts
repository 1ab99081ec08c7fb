// The sshd test fixture lives in dev/farm/sshd.ts (the demo farm uses it too).
export * from '../../dev/farm/sshd';
