export {
  Catalogue,
  CDNOW_BGNBD,
  CDNOW_GG,
  CDNOW_PNBD,
  catalogueSize,
  DEFAULT_START,
  periodEnd,
  type SimulatedCustomer,
  type SimulatedModel,
  type SimulatedOrder,
  type SimulationOptions,
  simulateStore,
} from './store.js';
export {
  SHOPIFY_COLUMNS,
  SIMULATE_SOURCE,
  type SimulationStats,
  simulatedEvents,
  simulatedOrders,
  type WriteSimulationOptions,
  writeShopifyExport,
  writeSimulation,
} from './write.js';
