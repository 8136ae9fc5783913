/**
 * Scans, queue, schedules and change history: what other parts of Leash call.
 */
export { listChangesSince, countChangesSince, type ChangeEntry, type ChangesFilter } from './changes.js'
export { confirmRetirement } from './retirement.js'
export { requestScan, scanServices, startScanQueue, startScanWorkers, sweepRuns, SCAN_QUEUE, type ScanQueue } from './queue.js'
export { listSourceSchedules, nextRunOf, startScheduler, type SourceSchedule } from './scheduler.js'
export { executeScanRun, type ScanRunResult, type RunnerDependencies, type AfterScanHooks } from './runner.js'
export { cancelQueuedRun, failStaleRuns, getActiveRun, getScanRun, listScanRuns, requestScanRun, startRunNow, type ScanRunError } from './runs.js'
