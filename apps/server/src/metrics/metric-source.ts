/** Who reported a metric: backend processes with a server key, or browsers with a client key
 *  (public: anyone can report with one). Guards count the sources they trust. */
export type MetricSource = 'server' | 'client';

export const METRIC_SOURCES: readonly MetricSource[] = ['server', 'client'];
