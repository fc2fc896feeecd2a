import { auditDelivery } from './audit-delivery.js';

for (const records of [250, 1000, 2000]) {
  const r = await auditDelivery({ records, channels: 4, replicas: 1 });
  console.warn(
    records,
    'cpu/record outbox',
    r.cpuMsPerRecord.outbox.toFixed(2),
    'store',
    r.cpuMsPerRecord.store.toFixed(2),
    'real',
    r.realMs.toFixed(0),
    'rate',
    r.rate.slowest.toFixed(3),
  );
}
