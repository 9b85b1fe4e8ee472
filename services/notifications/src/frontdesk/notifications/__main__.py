from frontdesk.kit.service import main
from frontdesk.notifications.app import SPEC

main(SPEC)
