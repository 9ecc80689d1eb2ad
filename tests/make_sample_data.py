"""Write `finetune_kit/sample_data/` (the invented data the tutorials ship with), deterministically.

Run from the repository root: `python tests/make_sample_data.py`. Rerunning it rewrites every file byte for byte
(fixed seeds, fixed epochs, sorted keys where order is free). Everything here is invented: the people, the show,
the messages. The quotes are short public-domain quotations by authors who died before 1929.

Three sets:
- `messenger/`: a Facebook "Download your information" export (2024/25 layout, Meta's mojibake escapes) of the
  fictional account owner Sam Rivera, who texts in lowercase bursts without end punctuation.
- `podcast/`: WhisperX transcripts (VTT and JSON) of "The Long Run with Maya Chen"; episode 4 has messed-up
  diarisation (the host label talks more than the guest).
- `quotes/quotes.jsonl`: `{"author", "quote"}` lines.
"""
import json, math, random, re, shutil, sys, unicodedata
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / 'finetune_kit' / 'sample_data'

# ---------------------------------------------------------------------------------------------------------------
# Messenger
# ---------------------------------------------------------------------------------------------------------------

ME = 'Sam Rivera'

# Topic banks. `f`: the friend's opening burst, built slot by slot (each slot a list of alternatives, '' = leave the
# slot out; all alternatives of a topic fit together). `s`: Sam's first reply, slot by slot. `q`: (Sam's question,
# the friend's answer, Sam's reply) triples appended to Sam's first reply. `fu`: (friend, Sam) follow-ups that fit any
# opener of the topic. Bursts are written with ' | ' between messages. {she}/{her} follow the friend's story.
TOPICS = {
'breakup': dict(interest='life',
  f=[['dude', 'hey', 'ok so', ''],
     ['i need your advice', 'can i get your take on something', 'i need to vent for a sec', 'you busy?'],
     ['{she} said {she} wanted to "take a break"', 'we had the talk last night', '{she} has been super distant all week',
      '{she} said {she} needs to "figure some stuff out"'],
     ['idk what that even means', 'what do i even do', 'i feel kinda sick about it', '']],
  s=[['oh no', 'oof', 'dude', 'wait what', 'ugh', ''],
     ['im sorry man', 'thats rough', 'ngl that sucks', 'ok thats a lot', 'thats so hard']],
  q=[('did {she} say why', '{she} said {she} just needs space | and that it\'s not about me', 'space is fair ngl | doesnt mean its over'),
     ('u ok?', 'not really | i just feel dumb', 'u dont sound dumb at all | u sound sad which is normal'),
     ('did u see it coming', 'idk | kinda? | we were fighting a lot', 'yeah that tracks | still sucks tho'),
     ('like a break break or like space', 'no idea | {she} said maybe after the summer', 'ok so not over | just paused | give it time'),
     ('want to get food and talk about it', 'yes pls', 'tacos at 7 | my treat')],
  fu=[('should i text {her} or leave it', 'leave it for now | seriously dont text {her} at 2am'),
      ('i keep checking my phone lol', 'lol same energy as checking my strava kudos | put the phone down'),
      ('i can\'t sleep', 'lets go for a run tmrw | clears ur head i promise'),
      ('thanks for listening', 'always dude | ur gonna be ok | it just sucks for a while'),
      ('i don\'t want to be alone tonight', 'im making chili | come over | ill put on something dumb')]),
'longrun': dict(interest='running',
  f=[['dude', 'ok', '', ''],
     ['gels are such a game changer', 'did my long run this morning', 'just finished 18 miles', 'longest run ever today'],
     ['felt amazing at mile 15 today', 'legs felt fresh the whole way', 'negative split the last 5k', 'no wall this time'],
     ['', '', 'you were right', 'i might actually like running now']],
  s=[['lets goooo', 'yooo', 'dude', 'thats huge', 'oh nice'],
     ['told u', 'mile 15 feeling good is the dream', 'thats a real long run', 'proud of u ngl', 'thats the stuff', '']],
  q=[('what flavor did u get', 'the salted caramel ones | way better than the citrus', 'salted caramel supremacy | citrus tastes like cleaning product'),
     ('what pace', 'like 8:40s | which is fast for me', '8:40 on a long run is legit | ur gonna crush the half'),
     ('how many gels did u take', 'two | and one at the end lol', 'lol the victory gel | respect'),
     ('what did u eat before', 'oatmeal and a banana', 'classic | thats my go to too'),
     ('recovery run tmrw?', 'ugh fine | 30 min easy?', 'perfect | super slow | like embarrassing slow')],
  fu=[('maybe one more mile next week?', 'yeah add a mile a week max | dont get greedy'),
      ('my watch died at mile 12 tho', 'if its not on strava did it even happen lol | jk it counts'),
      ('my legs are so sore now', 'ice bath | or just lie on the floor | both work'),
      ('what should i eat now', 'literally everything | carbs and protein | u earned it')]),
'race': dict(interest='running',
  f=[['ok', 'so', '', ''],
     ['signed up for the half in october', 'registered for the trail 25k', 'thinking about doing a marathon next year'],
     ['am i crazy', 'kinda terrified', 'no going back now', ''],
     ['', 'you have to do it with me', '']],
  s=[['dude yes', 'do it', 'lets go', 'ok yes'],
     ['not crazy at all', 'ull be so ready by then', 'thats the best race too', 'ur gonna love it']],
  q=[('what goal time', 'maybe sub 2? | is that dumb', 'sub 2 is totally doable | u ran 8:40s on a long run'),
     ('which one', 'the one by the lake', 'the lake one is flat and fast | great pick'),
     ('want me to make u a plan', 'yes pls make me a plan', 'on it | ill send it tonight'),
     ('how many miles are u running now', 'like 15 a week', 'perfect base | build slow from there')],
  fu=[('ok but you have to sign up too', 'lol fine | signing up rn'),
      ('how many miles a week should i be doing', 'build to like 25 | slowly tho'),
      ('what do i do for training', 'one long run one workout rest easy | thats it'),
      ('my coach wants me doing speed work', 'start with 400s | speed work is the worst and the best')]),
'injury': dict(interest='running',
  f=[['ugh', 'so', '', ''],
     ['my shin is killing me', 'think i rolled my ankle on the trail', 'my knee is acting up again', 'my calf feels super tight'],
     ['should i still run saturday?', 'it hurts going downhill', 'it only hurts when i start', '']],
  s=[['oof', 'nooo', 'ah man', 'ugh'],
     ['dont run on it', 'rest it for real', 'thats ur body yelling at u', 'not worth pushing it']],
  q=[('how old are ur shoes', 'like 500 miles on them lol', '500 lol | thats ur answer | new shoes'),
     ('did u up ur miles fast', 'yeah i doubled my miles this month', 'doubling is how u get hurt | 10 percent a week'),
     ('have u seen a pt', 'no the pt is so expensive', 'one visit is worth it | they give u the exercises'),
     ('does it hurt walking', 'a little', 'ok then def no running | ice and rest a few days')],
  fu=[('but the group run is saturday', 'skip it | come to brunch after instead'),
      ('i hate resting', 'rest now or rest for two months | ur choice lol'),
      ('ok fine i will rest', 'good | smart | bike if u get restless'),
      ('how long did yours take', 'like a month | i ran on it and made it worse | dont be me')]),
'recipe': dict(interest='cooking',
  f=[['hey', 'ok', '', ''],
     ['what was that chili recipe', 'how do you make your chili', 'i need your chili recipe'],
     ['the one with the beer in it', 'my roommate keeps asking', 'i have people over saturday', ''],
     ['', '', 'pls', 'you\'re the cooking guy']],
  s=[['ok so', 'oh yes', 'yesss', ''],
     ['brown the meat first dont skip it', 'cumin and smoked paprika are the secret', 'beer and a square of dark chocolate']],
  q=[('want me to send it', 'yes!!', 'sending rn | its my abuela\'s so dont share it lol'),
     ('how spicy do u want it', 'medium?', 'one jalapeño then | take the seeds out'),
     ('u have a dutch oven', 'no just a big pot', 'big pot works | low and slow'),
     ('how many people', 'like 6', 'double it | chili is better the next day anyway')],
  fu=[('chocolate?? in chili??', 'trust me | it makes it deep | u wont taste it'),
      ('i don\'t have smoked paprika', 'regular works | add a little chipotle'),
      ('how long does it cook', 'at least 2 hours | 3 if ur patient'),
      ('made it!! everyone loved it', 'LETS GO | told u | send pics')]),
'salsa': dict(interest='cooking',
  f=[['hey', '', ''],
     ['how do you make your salsa', 'made your tacos last night', 'trying your salsa recipe'],
     ['they were amazing', 'mine is too watery', 'i need help', '']],
  s=[['ok so', 'lol', 'oh yes', ''],
     ['char the tomatoes first', 'lime on everything', 'roast the jalapeño too', 'salt more than u think']],
  q=[('how long did u roast them', 'like 10 min?', 'go 25 at 425 | till theyre black in spots'),
     ('did u drain the tomatoes', 'no?', 'thats the watery part | drain them'),
     ('what tomatoes did u use', 'the big ones', 'romas are better | less water')],
  fu=[('ok trying again tonight', 'report back'),
      ('my roommate ate half of it already', 'lol thats the best review'),
      ('is cilantro required', 'yes | non negotiable | sorry'),
      ('sending pics later', 'pls do | i need to see')]),
'sourdough': dict(interest='cooking',
  f=[['ok', '', ''],
     ['trying to make sourdough again', 'my starter died lol', 'my bread came out flat'],
     ['what am i doing wrong', 'third time', '']],
  s=[['lol', 'oof', 'rip', ''],
     ['starters are drama queens', 'bread is hard dont feel bad', 'sourdough humbles everyone']],
  q=[('how often are u feeding it', 'like once a week?', 'twice a day | its a pet not a plant'),
     ('how warm is ur kitchen', 'cold lol', 'put it in the oven with the light on'),
     ('did it double before u used it', 'i didnt check', 'thats it | wait till it doubles')],
  fu=[('can i have some of yours', 'yes | bring a jar'),
      ('maybe i\'ll just buy bread', 'lol no | we dont give up'),
      ('ok it bubbled!!', 'lets gooo | bake time')]),
'cooking_me': dict(interest='cooking',
  f=[['', '', 'ok'],
     ['what are you making tonight', 'did you end up making the pozole', 'that pic of your ramen lol', 'you still doing meal prep sundays'],
     ['', 'i\'m so hungry', 'i need to learn']],
  s=[['', 'lol', 'ok'],
     ['pozole rojo', 'just threw a chicken in the oven', 'made pasta from scratch', 'meal prep every sunday no exceptions'],
     ['took like 4 hours', 'honestly easier than it looks', 'the whole apartment smells amazing', '']],
  q=[('want some', 'omg yes save me some', 'already saved u a bowl'),
     ('want to learn', 'yes teach me', 'saturday cooking lesson | ur on onions')],
  fu=[('how do you have time for this', 'lol i dont sleep'),
      ('that looks insane', 'thank u thank u | 🙏'),
      ('my abuela would approve', 'thats the highest honor')]),
'climb': dict(interest='climbing',
  f=[['dude', 'yo', '', ''],
     ['finally sent the blue v4', 'finally sent my project', 'sent the crimpy one'],
     ['took me like 20 tries', 'my skin is gone', 'the top move is so scary', '']],
  s=[['lets go', 'dude', 'yesss', 'no way'],
     ['that one has the nasty heel hook', 'that thing is sandbagged', 'project crushed', 'proud of u']],
  q=[('video?', 'yes sending', 'the heel hook at the top | so clean'),
     ('how are ur fingers', 'destroyed', 'tape them up and rest a day'),
     ('whats next', 'the orange v5 maybe', 'oh thats a good one | we should session it')],
  fu=[('how do you do the heel hook', 'heel high and pull with ur leg | ill show u'),
      ('i think i tweaked a finger', 'oof | rest it for real | fingers are slow to heal'),
      ('gym tonight?', 'im in | 7?')]),
'climb_plan': dict(interest='climbing',
  f=[['yo', '', ''],
     ['gym tonight?', 'thinking about going outside this weekend', 'bouldering tomorrow?'],
     ['', 'need to get out of the house', 'my forearms miss it']],
  s=[['yes', 'ya', 'ooh', 'lets go'],
     ['im in', 'outside is so much better', 'down', 'climb sesh after my run']],
  q=[('what time', '7ish?', '7 works | ill be there at 6:45 lol'),
     ('the boulders by the river?', 'yes the river spot', 'perfect | leaving at 9'),
     ('should i bring the pad', 'bring the big pad', 'big pad coming')],
  fu=[('bring snacks', 'obviously'),
      ('it might rain tho', 'then gym | no excuses'),
      ('my fingers are destroyed', 'tape them up | we go easy')]),
'plans': dict(interest='life',
  f=[['hey', '', ''],
     ['are you around saturday?', 'coffee this week?', 'want to come to the farmers market sunday?', 'dinner thursday?'],
     ['', 'i miss you', 'been forever']],
  s=[['yeah', 'ya', 'yes', 'ooh'],
     ['down', 'yes def', 'yes but late', 'after my long run'],
     ['', '', 'been way too long', 'cant wait']],
  q=[('what time', '2?', '2 works'),
     ('where', 'the usual spot?', 'yes | see u there'),
     ('want me to pick u up', 'yes pls', 'ok ill text when im outside')],
  fu=[('bring your appetite', 'lol always do'),
      ('perfect see you then', 'perfect'),
      ('can mateo come too', 'obviously')]),
'work_bad': dict(interest='life',
  f=[['ugh', 'ok', ''],
     ['work is insane this week', 'my boss scheduled a 7am meeting', 'presentation tomorrow and i\'m freaking out'],
     ['', 'send help', 'i can\'t do this']],
  s=[['dude', 'oh no', 'oof'],
     ['thats brutal', '7am is a crime', 'ur gonna be fine', 'u always say that and then u kill it']],
  q=[('want to practice on me', 'yes can you listen tonight', 'yes call me after 8'),
     ('what happened', 'everyone quit and now i do three jobs', 'thats not ok | u should say something'),
     ('run tmrw morning to clear ur head', 'yes pls', '6:30 at the bridge')],
  fu=[('i have slides for days', 'cut half the slides | trust me'),
      ('i\'m so tired', 'sleep | seriously | the slides will be there')]),
'work_good': dict(interest='life',
  f=[['ok', '', 'guess what'],
     ['i got the job!!', 'they offered me the job', 'i got promoted'],
     ['', 'i can\'t believe it']],
  s=[['wait', 'yooo', 'dude'],
     ['lets gooo', 'honestly u earned it', 'so proud of u']],
  q=[('when do u start', 'monday!!', 'monday lets go | new job energy'),
     ('did they pay u what u asked', 'more than i asked for', 'dude thats huge | u earned it')],
  fu=[('drinks friday?', 'drinks friday to celebrate | im buying'),
      ('i\'m nervous tho', 'normal | ur gonna be great')]),
'random': dict(interest='life',
  f=[['', '', 'lol'],
     ['did you see the sunrise this morning', 'i found a new running trail', 'my cat knocked my coffee over', 'have you watched the climbing documentary yet'],
     ['', 'unreal', 'so pretty']],
  s=[['lol', 'omg', 'ok', 'wait'],
     ['no way', 'thats amazing', 'ur life is a movie']],
  q=[('where', 'by the old mill', 'old mill is so good | hills tho'),
     ('pics?', 'sending', 'need')],
  fu=[('he looked right at me and did it', 'lol he knew'),
      ('i won\'t spoil it', 'ok watching this weekend')]),
}

# Sam starting the conversation himself, then the friend answers.
SAM_OPENERS = {
  'running': ['just ran 10 miles | legs are toast lol', 'ran the river loop at sunrise | so pretty',
              'new pr on the 5k | 21:40 | lets goooo', 'anyone want to do a long run sunday', 'my legs are dead | hill repeats',
              'dude | track workout was brutal today', 'ran in the rain | felt like a movie lol', 'ngl i might sign up for a marathon'],
  'cooking': ['made pozole | its so good | come over', 'dude | i found the best taco place', 'sourdough attempt number 6',
              'made ramen from scratch | took all day', 'chili weather', 'who wants tamales | i made like 40'],
  'climbing': ['sent my project finally | the crimpy one | v5 baby', 'who wants to climb tonight', 'bouldering sesh was so good',
               'fingers are wrecked | worth it', 'new set at the gym | looks hard'],
  'life': ['dude', 'whats up', 'u alive', 'random but i miss u', 'lol look at this'],
}
FRIEND_TO_SAM = {
  'running': ['nice!! how far?', 'you\'re a machine', 'how do you do it', 'how\'s the knee?', 'ok that\'s impressive'],
  'cooking': ['omg save me some', 'where??', 'you\'re gonna make me hungry', 'recipe?', 'pics or it didn\'t happen'],
  'climbing': ['congrats!!', 'i\'m in, what time?', 'show me the video', 'how are your fingers', 'too tired tonight'],
  'life': ['hey!', 'lol what', 'miss you too', 'what\'s up', 'alive barely'],
}
SAM_AFTER = {
  'running': ['like 16k | felt easy honestly', 'gels and vibes lol', 'knee is good | finally', 'just keep showing up | thats it',
              'lol thanks | my legs disagree'],
  'cooking': ['already saved u some', 'the spot on 5th | al pastor is unreal', 'ill send it | its my abuela\'s',
              'sending pics', 'come over saturday'],
  'climbing': ['7 at the gym', 'sending it now', 'wrecked lol | worth it', 'next time then', 'thanks dude | took forever'],
  'life': ['nothing much | just got back from a run', 'u around this weekend', 'lol long story', 'we need to catch up',
           'sending u something'],
}
# the friend's sign-off and the replies Sam gives to it
CLOSE = [('ok gotta go', ['later', 'ttyl', '👋']), ('talk later', ['later', 'ttyl']), ('thanks man', ['anytime', 'ofc', 'always']),
         ('ok ok', ['lol ok']), ('you\'re the best', ['lol ofc', 'always', 'anytime']), ('night', ['night', 'night night']),
         ('haha ok', ['lol']), ('love you dude', ['love u too', 'always'])]
EMOJI_SAM = ['😂', '🔥', '💪', '🏃', '🙏', '👀', '😭']

# Friends: (name, slug id, interests (topic weights), style)
FRIENDS = {
  'Mateo Hernández': dict(id='10158234567890123', topics=['breakup', 'longrun', 'race', 'injury', 'recipe', 'salsa', 'work_bad', 'work_good', 'plans', 'climb'], style='lower',
                         # the seed's two prompts, word for word
                         script={12: ('breakup', 'dude | i need your advice | she said she wanted to "take a break"'),
                                 41: ('longrun', 'dude | gels are such a game changer | felt amazing at mile 15 today')}),
  'Zoë Kowalczyk':   dict(id='5827193650281734', topics=['climb', 'climb_plan', 'climb_plan', 'plans', 'random', 'cooking_me', 'work_good'], style='excited'),
  'Priya Raman':     dict(id='7340918265537419', topics=['longrun', 'race', 'injury', 'plans', 'sourdough', 'work_bad'], style='proper'),
  'Chris O\'Neill':  dict(id='2918374650192837', topics=['recipe', 'salsa', 'sourdough', 'cooking_me', 'work_bad', 'plans', 'random'], style='proper'),
  'Lena Novák':      dict(id='6601928374659102', topics=['breakup', 'random', 'climb_plan', 'plans', 'cooking_me', 'work_good'], style='lower', partner='he'),
}
GROUP = dict(title='trail rats 🏃', id='4437375262993687',
             members=['Mateo Hernández', 'Zoë Kowalczyk', 'Priya Raman', 'Dev Okafor'], left=['Jonas Müller'])
ARCHIVED = dict(name='Renée Dubois', id='3391827465019283')
DELETED = dict(name='Facebook user', id='8820193746501928')

T0 = int(datetime(2024, 1, 8, tzinfo=timezone.utc).timestamp() * 1000)   # first session of the inbox
T_END = int(datetime(2024, 11, 29, tzinfo=timezone.utc).timestamp() * 1000)


def slug(name, id):
    "Meta's thread folder name: lowercased ASCII letters and digits of the title, then `_<id>`"
    ascii = unicodedata.normalize('NFKD', name).encode('ascii', 'ignore').decode()
    return re.sub(r'[^a-z0-9]', '', ascii.lower()) + '_' + id


def styled(text, style, rng):
    "Friend's house style applied to a lowercase message"
    if style == 'lower':
        plain = len(text.split()) >= 3 and not re.search(r'(\?|lol|!)$', text)
        return text + (' haha' if plain and rng.random() < 0.08 else '')
    t = re.sub(r"\bi\b", 'I', text)
    t = re.sub(r"\bi'", "I'", t)
    t = t[:1].upper() + t[1:]
    if t[-1:] not in '?!."' and not re.search(r'[^\x00-\x7f]$', t):
        if re.match(r'(how|what|when|where|why|who|do|does|did|is|are|can|should|could|want)\b', text): t += '?'
        else: t += ('!' if style == 'excited' and rng.random() < 0.6 else '.' if style == 'proper' else '')
    return t


def fill(slots, rng, keep=1.0):
    "One burst from slot alternatives (each kept with probability `keep`); never empty"
    out = [m for m in (rng.choice(s) for s in slots) if m and rng.random() < keep]
    return out or [rng.choice([m for m in slots[1] if m])]


def split(burst): return [m.strip() for m in burst.split('|') if m.strip()]


def sam_burst(msgs, rng):
    "Sam's style touches: a leading lol/ngl now and then, an emoji now and then"
    msgs = list(msgs)
    r = rng.random()
    if r < 0.07: msgs.insert(0, 'lol')
    elif r < 0.11 and len(msgs[0].split()) > 2 and not re.match(r'(ngl|dude|lol|ok|oh|wait|yo|ya|yes|omg)\b', msgs[0]):
        msgs[0] = 'ngl ' + msgs[0]
    if rng.random() < 0.12: msgs.append(rng.choice(EMOJI_SAM))
    if len(msgs) > 4: msgs = msgs[:2] + msgs[-2:]
    return [typo(m, rng) for m in msgs]


# Sam's spelling wobbles: stretched words and variants, now and then
VARIANTS = [(r'\blol\b', ['lmao', 'lolol']), (r'\bdude\b', ['duuude', 'dud']), (r'\byes\b', ['yess', 'yesss']),
            (r'\bso\b', ['soo', 'sooo']), (r'\bok\b', ['okk', 'okay']), (r'\bthats\b', ['thts', 'that is']),
            (r'\bu\b', ['you']), (r'\bur\b', ['youre', 'your']), (r'\bim\b', ['i am']), (r'\bgo\b', ['gooo'])]


def typo(m, rng):
    hits = [v for v in VARIANTS if re.search(v[0], m)]
    if not hits or rng.random() > 0.3: return m
    pat, alts = rng.choice(hits)
    return re.sub(pat, rng.choice(alts), m, count=1)


class Thread:
    "Collects messages (oldest first) and writes a Meta thread file set"
    def __init__(self, title, participants, section, folder):
        self.title, self.participants, self.section, self.folder = title, participants, section, folder
        self.msgs = []

    def add(self, sender, t, **kw):
        m = dict(sender_name=sender, timestamp_ms=t, **kw)
        self.msgs.append(m)
        return m

    def uri(self, kind, n, ext):
        return f'your_facebook_activity/messages/{self.section}/{self.folder}/{kind}/{n}.{ext}'


def say(th, sender, msgs, t, rng):
    "Append a burst; returns the time after it and the message dicts"
    out = []
    for i, m in enumerate(msgs):
        if i: t += rng.randint(2_000, 40_000)
        out.append(th.add(sender, t, content=m))
    return t, out


def session(th, friend, rng, t, style, topics, pairs, partner='she', closers=True, script=None):
    "One conversation session between `friend` and Sam; counts Sam bursts that answer a friend burst"
    name = friend
    if script is None and rng.random() < 0.2:                # Sam starts
        interest = rng.choice(list(SAM_OPENERS))
        t, _ = say(th, ME, sam_burst(split(rng.choice(SAM_OPENERS[interest])), rng), t, rng)
        t += rng.randint(30_000, 1_800_000)
        t, _ = say(th, name, [styled(m, style, rng) for m in split(rng.choice(FRIEND_TO_SAM[interest]))], t, rng)
        t += rng.randint(10_000, 300_000)
        t, _ = say(th, ME, sam_burst(split(rng.choice(SAM_AFTER[interest])), rng), t, rng)
        pairs[0] += 1
        return t
    topic = TOPICS[script[0] if script else rng.choice(topics)]
    she = partner
    pr = lambda m: m.format(she=she, her='her' if she == 'she' else 'him')
    opening = split(script[1]) if script else fill(topic['f'], rng)
    t, fmsgs = say(th, name, [styled(pr(m), style, rng) for m in opening], t, rng)
    if rng.random() < 0.05:                                  # a photo to go with it
        t += rng.randint(2_000, 20_000)
        th.add(name, t, photos=[dict(uri=th.uri('photos', rng.randint(10**15, 10**16), 'jpg'), creation_timestamp=t // 1000)])
    t += rng.randint(20_000, 2_400_000)
    q = rng.choice(topic['q']) if rng.random() < 0.75 else None
    t, smsgs = say(th, ME, sam_burst([pr(m) for m in fill(topic['s'], rng, keep=0.85)] + ([pr(q[0])] if q else []), rng), t, rng)
    pairs[0] += 1
    if rng.random() < 0.12:
        smsgs[-1]['reactions'] = [dict(reaction=rng.choice(['❤', '😂', '👍']), actor=name)]
    follow = ([q[1:]] if q else []) + rng.sample(topic['fu'], rng.choice([0, 1, 1, 2, 2]))
    for fm, sm in follow:
        t += rng.randint(15_000, 900_000)
        t, _ = say(th, name, [styled(pr(m), style, rng) for m in split(fm)], t, rng)
        t += rng.randint(10_000, 600_000)
        t, _ = say(th, ME, sam_burst([pr(m) for m in split(sm)], rng), t, rng)
        pairs[0] += 1
    if closers and rng.random() < 0.6:
        t += rng.randint(10_000, 300_000)
        fc, sc = rng.choice(CLOSE)
        t, _ = say(th, name, [styled(fc, style, rng)], t, rng)
        if rng.random() < 0.9:
            t += rng.randint(5_000, 120_000)
            t, _ = say(th, ME, [rng.choice(sc)], t, rng)
            pairs[0] += 1
    return t


EXTRAS = ['call', 'missed', 'sticker', 'attachment', 'link', 'unsent', 'photo', 'gif']
_forced = iter(EXTRAS)                                        # the first extras of the run cover every kind once


def extras(th, friend, rng, t):
    "Media, calls, stickers, shares, unsent and pseudo-reaction messages sprinkled between sessions"
    kind = next(_forced, None)
    r = rng.random() if kind is None else [0.0, 0.15, 0.22, 0.32, 0.40, 0.46, 0.52, 0.60][EXTRAS.index(kind)]
    first = friend.split()[0]
    if r < 0.15:
        d = rng.randint(60, 3600)
        if rng.random() < 0.5: th.add(ME, t, content=f'You called {first}.', call_duration=d)
        else: th.add(friend, t, content=f'{first} called you.', call_duration=d)
    elif r < 0.22:
        th.add(friend, t, content=f'You missed a call from {first}.', call_duration=0, missed=True)
    elif r < 0.32:
        th.add(ME, t, sticker=dict(uri=f'your_facebook_activity/messages/stickers_used/{rng.randint(10**14, 10**15)}_n.png', ai_stickers=[]))
    elif r < 0.40:
        link = f'https://www.strava.com/activities/{rng.randint(10**9, 10**10)}'
        th.add(friend, t, content=f'{first} sent an attachment.', share=dict(link=link, share_text='Morning Run'))
    elif r < 0.46:
        link = f'https://example.com/recipes/{rng.choice(["pozole-rojo", "weeknight-chili", "charred-salsa", "no-knead-bread"])}'
        th.add(ME, t, content=link, share=dict(link=link))
    elif r < 0.52:
        th.add(ME, t, is_unsent=True)
    elif r < 0.60:
        m = th.add(ME, t, photos=[dict(uri=th.uri('photos', rng.randint(10**15, 10**16), 'jpg'), creation_timestamp=t // 1000)])
        m['reactions'] = [dict(reaction='😂', actor=friend)]
        th.add(friend, t + rng.randint(20_000, 200_000), content='Reacted 😂 to your message ')
    elif r < 0.64:
        th.add(friend, t, gifs=[dict(uri=th.uri('gifs', rng.randint(10**15, 10**16), 'gif'))])


def gap(rng, t):
    "Time from `t` to the next session: hours to days later, at a waking hour in Portland (UTC-8, roughly)"
    t += rng.choice([rng.randint(4, 12), rng.randint(12, 48), rng.randint(48, 240)]) * 3_600_000 + rng.randint(0, 3_599_999)
    local_hour = (t // 3_600_000 - 8) % 24
    if local_hour < 7: t += (7 - local_hour + rng.randint(0, 3)) * 3_600_000
    return t


def one_to_one(name, cfg, rng, n_sessions, pairs, section='inbox', start=T0, folder=None):
    th = Thread(name, [name, ME], section, folder or slug(name, cfg['id']))
    t = start + rng.randint(0, 20) * 3_600_000
    for i in range(n_sessions):
        t = session(th, name, rng, t, cfg['style'], cfg['topics'], pairs, cfg.get('partner', 'she'), script=cfg.get('script', {}).get(i))
        t = gap(rng, t)
        if rng.random() < 0.3:
            extras(th, name, rng, t)
            t = gap(rng, t)
    return th


def group_chat(rng, n_sessions, pairs):
    g = GROUP
    th = Thread(g['title'], g['members'] + [ME], 'inbox', slug('trailrats', g['id']))
    zoe, jonas, dev = 'Zoë Kowalczyk', 'Jonas Müller', 'Dev Okafor'
    t = T0 + 5 * 86_400_000
    th.add(zoe, t, content=f'{zoe} created the group.')
    for n in ['Mateo Hernández', 'Priya Raman', ME, jonas]:
        t += rng.randint(1_000, 9_000); th.add(zoe, t, content=f'{zoe} added {n} to the group.')
    t += 60_000; th.add('Priya Raman', t, content='Priya Raman named the group trail rats 🏃.')
    t += 120_000; say(th, zoe, ['Welcome to the running group!', 'Saturday long runs, Wednesday track, climbing whenever'], t, rng)
    t += 3_600_000
    group_topics = ['longrun', 'race', 'climb', 'climb_plan', 'plans', 'injury', 'recipe']
    speakers = {'Mateo Hernández': 'lower', zoe: 'excited', 'Priya Raman': 'proper', jonas: 'proper'}
    for i in range(n_sessions):
        if i == n_sessions // 3:
            th.add(jonas, t, content=f'{jonas} left the group.'); speakers.pop(jonas); t = gap(rng, t)
            th.add(zoe, t, content=f'{zoe} added {dev} to the group.'); speakers[dev] = 'lower'; t += 600_000
            say(th, dev, ['yo', 'thanks for the add'], t, rng); t = gap(rng, t)
        friend = rng.choice(sorted(speakers))
        t = session(th, friend, rng, t, speakers[friend], group_topics, pairs, closers=False)
        if rng.random() < 0.4:                       # someone else chimes in after Sam
            other = rng.choice(sorted(set(speakers) - {friend}))
            t += rng.randint(30_000, 900_000)
            say(th, other, [styled(rng.choice(['same', 'i\'m in', 'lol', 'count me in', 'what time?', 'ok this is the way']), speakers[other], rng)], t, rng)
        t = gap(rng, t)
    return th


def write_thread(th, root, rng, parts=1):
    "Write message_1.json (newest) .. message_N.json, each newest first, with Meta's byte-wise escapes"
    msgs = sorted(th.msgs, key=lambda m: m['timestamp_ms'])
    for i in range(1, len(msgs)):                                 # strictly increasing times keep the order unambiguous
        if msgs[i]['timestamp_ms'] <= msgs[i-1]['timestamp_ms']: msgs[i]['timestamp_ms'] = msgs[i-1]['timestamp_ms'] + 1
    newest = msgs[::-1]
    chunk = math.ceil(len(newest) / parts)
    folder = root / th.section / th.folder
    folder.mkdir(parents=True, exist_ok=True)
    for p in range(parts):
        doc = dict(participants=[{'name': n} for n in th.participants], messages=newest[p*chunk:(p+1)*chunk],
                   title=th.title, is_still_participant=True, thread_path=f'{th.section}/{th.folder}', magic_words=[])
        if len(th.participants) > 2:
            doc['image'] = dict(uri=f'your_facebook_activity/messages/photos/{th.folder}.jpg', creation_timestamp=th.msgs[0]['timestamp_ms'] // 1000)
            doc['joinable_mode'] = dict(mode=1, link='')
        (folder / f'message_{p+1}.json').write_text(json.dumps(mojibake(doc), indent=2, ensure_ascii=True) + '\n')


def mojibake(o):
    "Meta's export bug, reproduced: every UTF-8 byte of every string becomes its own code point"
    if isinstance(o, str): return o.encode('utf-8').decode('latin-1')
    if isinstance(o, list): return [mojibake(x) for x in o]
    if isinstance(o, dict): return {k: mojibake(v) for k, v in o.items()}
    return o


def make_messenger(out):
    global _forced
    _forced = iter(EXTRAS)
    rng = random.Random(7)
    root = out / 'messenger' / 'your_facebook_activity' / 'messages'
    pairs, threads = [0], []
    sessions = {'Mateo Hernández': 74, 'Zoë Kowalczyk': 31, 'Priya Raman': 26, 'Chris O\'Neill': 21, 'Lena Novák': 25}
    for name, cfg in FRIENDS.items():
        th = one_to_one(name, cfg, rng, sessions[name], pairs)
        if name == 'Lena Novák':                             # the one empty message ("nothing" key set)
            th.msgs.insert(len(th.msgs) // 2, dict(sender_name=name, timestamp_ms=th.msgs[len(th.msgs) // 2]['timestamp_ms'] - 1))
        threads.append((th, 2 if name == 'Mateo Hernández' else 1))
    threads.append((group_chat(rng, 36, pairs), 1))
    # a deleted account: messages remain, the name is gone
    th = one_to_one(DELETED['name'], dict(id=DELETED['id'], topics=['plans', 'random'], style='proper'), rng, 4, pairs,
                    start=T0 - 200 * 86_400_000, folder='facebookuser_' + DELETED['id'])
    threads.append((th, 1))
    # an older, archived thread
    th = one_to_one(ARCHIVED['name'], dict(id=ARCHIVED['id'], topics=['recipe', 'plans', 'longrun'], style='excited'), rng, 10,
                    pairs, section='archived_threads', start=T0 - 300 * 86_400_000)
    threads.append((th, 1))
    for th, parts in threads: write_thread(th, root, rng, parts)
    (root / 'autofill_information.json').write_text(json.dumps(mojibake({'autofill_information_v2': {
        'FULL_NAME': [ME], 'FIRST_NAME': ['Sam'], 'LAST_NAME': ['Rivera'], 'CITY': ['Portland'],
        'EMAIL': ['sam.rivera@example.com'], 'PHONE': []}}), indent=2, ensure_ascii=True) + '\n')
    return pairs[0], sum(len(th.msgs) for th, _ in threads)


# ---------------------------------------------------------------------------------------------------------------
# Podcast (WhisperX)
# ---------------------------------------------------------------------------------------------------------------

HOST = 'Maya Chen'
SHOW = 'The Long Run'

# Questions and answer sentences by theme. An answer is an opener, 3-5 theme sentences (not reused within an
# episode) and sometimes a closer.
QUESTIONS = {
  'origin': ['How did you get started with running in the first place?', 'What was the moment you knew this was going to be your life?',
             'Who was the first person who really believed in you?||My high school coach', 'What did running look like for you as a kid?||I was not fast as a kid'],
  'training': ['What does a normal training week look like for you right now?||I do one workout on Tuesday', 'How do you think about easy days versus hard days?||The biggest mistake is',
               'What is the most common training mistake you see people make?||The biggest mistake is', 'How much of your training is actually slow?||I run about eighty percent',
               'When do you decide to push and when do you decide to back off?||When my resting heart rate'],
  'fuel': ['What do you eat before a long race?||Race morning is the boring stuff', 'How do you think about gels and fueling during a marathon?||For a marathon I take a gel',
           'Has your relationship with food changed since you started competing?||For years I under ate', 'What does race morning breakfast look like?||Race morning is the boring stuff'],
  'mind': ['What goes through your head at the worst point of a race?||At mile twenty', 'How do you deal with a race that goes badly?||After a bad race',
           'Do you ever not want to run?||Of course there are days', 'What is the hardest part of this mentally?'],
  'injury': ['Tell me about the injury. What happened?||I felt a sharp pain', 'How did you stay sane during the time off?||I was angry for a while',
             'What would you tell someone who just got hurt?||My advice is to listen', 'What changed in how you train after coming back?||Now I replace my shoes'],
  'climb': ['How did climbing change the way you run?||Climbing taught me', 'What is the overlap between a hard boulder problem and a hard race?||A hard problem and a hard race',
            'Do you still climb during race season?||I still climb in the off season'],
  'science': ['What does the research actually say about zone two training?||Zone two is not magic', 'What is lactate threshold, in plain words?||Lactate threshold is',
              'Which popular idea in running do you think is simply wrong?||The idea I would love to retire', 'How should an amateur use heart rate data?||Heart rate is useful'],
  'future': ['What are you training for next?||Next up is', 'What do you want people to take away from your story?||I want people to know',
             'If you could give your younger self one piece of advice, what would it be?||I would tell my younger self'],
}
ANSWERS = {
  'origin': ['I grew up in a small town where the only thing to do after school was to run the logging roads.',
             'My dad ran every morning at five, and for years I thought that was just what adults did.',
             'I was not fast as a kid, I was the one who kept going after everyone else stopped.',
             'My high school coach put me on the two mile because nobody else wanted to run it.',
             'I ran my first marathon at nineteen in borrowed shoes and walked down stairs backwards for a week.',
             'There was no plan, I just liked how quiet my head got after about forty minutes.',
             'My grandmother used to time me around the block with a kitchen timer.'],
  'training': ['Most of my week is easy running, genuinely easy, the kind where you can hold a conversation.',
               'I do one workout on Tuesday, one long run on the weekend, and everything else is just miles.',
               'The biggest mistake is running the easy days too hard and the hard days too easy.',
               'People want every run to feel like progress, but the progress comes from being boring for months.',
               'I keep a paper log, which sounds old fashioned, but writing it down makes me honest.',
               'When my resting heart rate is up five beats in the morning, I take the day off, no discussion.',
               'Strength work twice a week is the thing I resisted for ten years and now I will never skip it.',
               'Consistency beats intensity every single time, and I learned that the hard way.',
               'I run about eighty percent of my miles slower than I could, and that is on purpose.',
               'Hills are speed work in disguise, so I do a lot of them.'],
  'fuel': ['For a marathon I take a gel every thirty to forty minutes, starting before I feel like I need it.',
           'By the time you are hungry in a race, you are already behind, so you eat on a schedule.',
           'Race morning is the boring stuff, oatmeal, a banana, coffee, and nothing I have not tried before.',
           'I practise fueling on long runs the same way I practise pace, because your gut needs training too.',
           'For years I under ate and called it discipline, and it cost me two seasons.',
           'Salt matters more than people think, especially on a hot day.',
           'I used to think gels were for elites, and now I tell everyone they are a game changer.',
           'Real food works on the trails, boiled potatoes with salt are my secret weapon.'],
  'mind': ['At mile twenty I stop thinking about the finish and just think about the next aid station.',
           'I have a rule that I am not allowed to make any decisions in the last ten kilometres of a race.',
           'The bad races teach you more, but only if you are willing to look at them honestly.',
           'Of course there are days I do not want to run, and on those days I just put my shoes on and walk out the door.',
           'I talk to myself out loud, which probably looks a little crazy to the spectators.',
           'The hardest part is not the pain, it is the voice that tells you the pain means something.',
           'I break the race into pieces small enough that I can always say yes to the next one.',
           'After a bad race I give myself one day to be upset, and then I write down three things I learned.'],
  'injury': ['I felt a sharp pain on the outside of my foot at mile eight and kept running, which was the mistake.',
             'It was a stress fracture, and the doctor told me six weeks, which turned into four months.',
             'I was angry for a while, and then I started swimming, and that saved my head.',
             'The time off made me realise how much of my identity I had tied to my results.',
             'My advice is to listen to the small pains so you never have to listen to the big ones.',
             'When I came back I started with one minute running and one minute walking, it was humbling.',
             'Now I replace my shoes every four hundred miles and I do my boring calf raises every night.',
             'The injury was the best thing that happened to my running, although I would not have said so then.'],
  'climb': ['Climbing taught me to be patient with a problem instead of throwing myself at it.',
            'On a boulder you fail twenty times in an afternoon, and that makes failing in a race feel normal.',
            'The grip strength helps on technical trails more than I expected.',
            'A hard problem and a hard race are both about staying calm when your body is screaming.',
            'I still climb in the off season, but I stay off the crimpy stuff before big races.',
            'My climbing friends think runners are a little bit crazy, and the feeling is mutual.'],
  'science': ['Zone two is not magic, it is just a way to get a lot of aerobic work done without wrecking yourself.',
              'Lactate threshold is roughly the fastest pace you could hold for about an hour.',
              'The research is pretty clear that most endurance athletes benefit from a lot of low intensity volume.',
              'Heart rate is useful, but it drifts with heat, caffeine and sleep, so treat it as a guide.',
              'The idea I would love to retire is that stretching before a run prevents injuries.',
              'We measured recreational runners for two years, and the ones who improved most simply missed fewer weeks.',
              'Your body does not know what pace you are running, it only knows how hard the effort is.',
              'Recovery is where the adaptation actually happens, the workout is only the signal.'],
  'future': ['Next up is a hundred kilometre race in the mountains in September.',
             'I want people to know you do not have to be talented to build something over years.',
             'I would tell my younger self to slow down on the easy days and to eat more.',
             'Honestly I just want to still be running when I am eighty.',
             'I am coaching a group of beginners this spring, and I am more nervous about that than any race.',
             'The goal is to stay curious, because the day it becomes a chore, I stop improving.'],
}
KEYS = {a for qs in QUESTIONS.values() for q in qs if '||' in q for ans in ANSWERS.values() for a in ans if a.startswith(q.split('||')[1])}
OPENERS = ['Yeah.', 'That is a great question.', 'So, honestly,', 'Oh, I think about this a lot.', 'Right.', 'Well,', 'Hmm.', 'Yeah, so']
CLOSERS = ['So that is where I landed.', 'Anyway, that is the long version.', 'And I still believe that.', 'That is really it.']
REACTIONS = ['Right.', 'That makes sense.', 'Interesting.', 'I love that.', 'Wow.', 'Yeah.']

EPISODES = [
  dict(file='ep01_tomas_ibarra', guest='Tomás Ibarra', formats=('vtt',), seed=101,
       bio='a sports physiologist who has spent twenty years measuring what actually makes amateur runners faster. '
           'He runs the endurance lab at a university in the mountains, and he is the reason I stopped stretching before my runs.',
       themes=['science', 'training', 'fuel', 'science', 'mind', 'injury', 'origin', 'training', 'future']),
  dict(file='ep02_hannah_okoye', guest='Hannah Okoye', formats=('json', 'vtt'), seed=102, answer_len=(3, 4),
       bio='an ultrarunner who finished her first hundred miler two years after her first 5K. '
           'She has won races on three continents, and she still keeps her training log on paper.',
       themes=['origin', 'training', 'fuel', 'mind', 'injury', 'future']),
  dict(file='ep03_rosa_delgado', guest='Rosa Delgado', formats=('json',), seed=103, answer_len=(3, 4),
       bio='a sports dietitian and marathoner who works with everyone from beginners to Olympians. '
           'She is on a mission to get runners to eat enough.',
       themes=['fuel', 'fuel', 'training', 'mind', 'origin', 'future']),
  dict(file='ep04_kenji_mori', guest='Kenji Mori', formats=('vtt',), seed=104, swapped_after=12,
       bio='a climber who took up trail running at thirty and is now one of the best mountain runners in the country. '
           'We talk about fear, fingers and falling.',
       themes=['climb', 'origin', 'training', 'mind', 'injury', 'fuel', 'future']),
  dict(file='ep05_ingrid_solberg', guest='Ingrid Solberg', formats=('vtt',), seed=105,
       bio='a coach who has trained more than a thousand first time marathoners. '
           'She came back from a stress fracture to run her best time at forty one.',
       themes=['injury', 'training', 'mind', 'training', 'injury', 'origin', 'fuel', 'future']),
]


def episode_segments(ep):
    "Segments (start, end, speaker, text) of one episode, host = SPEAKER_00, in speaking order"
    rng = random.Random(ep['seed'])
    first = ep['guest'].split()[0]
    lines = [('H', f"This is my conversation with {ep['guest']}, {ep['bio'].split('. ')[0]}."),
             ('H', ep['bio'].split('. ', 1)[1]),
             ('H', f'This is {SHOW}, and I am {HOST}.'),
             ('H', f"And now, here is my conversation with {first}."),
             ('G', rng.choice(['Thanks for having me.', 'Thank you, Maya, I am really happy to be here.', 'Happy to be here.']))]
    used = set()
    for i, theme in enumerate(ep['themes']):
        # a question whose key answer (after '||') is still unused, so the answer starts on point
        ok = [q for q in QUESTIONS[theme] if q.split('||')[0] not in used
              and ('||' not in q or any(a.startswith(q.split('||')[1]) and a not in used for a in ANSWERS[theme]))]
        ok = ok or [q for q in QUESTIONS[theme] if q.split('||')[0] not in used]
        q = rng.choice(ok); used.add(q.split('||')[0])
        if i and rng.random() < 0.5: lines.append(('H', rng.choice(REACTIONS)))
        lines.append(('H', q.split('||')[0]))
        pool = [a for a in ANSWERS[theme] if a not in used]
        key = [a for a in pool if '||' in q and a.startswith(q.split('||')[1])][:1]
        pool = [a for a in pool if a not in key]
        free = [a for a in pool if a not in KEYS]              # keep key answers for their own questions
        pool = free if len(free) >= 3 else pool
        if len(pool) < 3: pool += [a for a in ANSWERS['mind'] + ANSWERS['training'] if a not in used and a not in pool and a not in KEYS]
        n = min(len(pool), rng.randint(*ep.get('answer_len', (3, 5))) - len(key))
        body = key + rng.sample(pool, n); used.update(body)
        op = rng.choice(OPENERS)
        lower = lambda a: a if re.match(r"I\b", a) else a[0].lower() + a[1:]
        body[0] = (op + ' ' + lower(body[0])) if op.endswith(',') or op == 'Yeah, so' else body[0]
        if not op.endswith(',') and op != 'Yeah, so': lines.append(('G', op))
        lines += [('G', b) for b in body]
        if rng.random() < 0.3: lines.append(('G', rng.choice(CLOSERS)))
    lines.append(('H', f'{first}, thank you so much for doing this.'))
    lines.append(('G', 'Thank you, this was fun.'))
    if 'json' in ep['formats']:                   # a music sting between two answers: alignment will fail on it
        k = next(k for k in range(len(lines) // 3, len(lines)) if lines[k][0] == 'H')
        lines.insert(k, ('M', ' ♪♪'))
    segs, t = [], rng.uniform(0.02, 0.4)
    for k, (who, text) in enumerate(lines):
        dur = len(text) / rng.uniform(13, 17)
        spk = {'H': 'SPEAKER_00', 'G': 'SPEAKER_01', 'M': None}[who]
        if 'swapped_after' in ep and k >= 4 + ep['swapped_after']:      # diarisation flipped the labels mid-episode
            spk = 'SPEAKER_01' if who == 'H' else 'SPEAKER_00'
        segs.append(dict(start=round(t, 3), end=round(t + (2.4 if who == 'M' else dur), 3), speaker=spk, text=text))
        if who == 'M': dur = 2.4
        t += dur + (rng.uniform(0.3, 1.2) if k + 1 < len(lines) and lines[k+1][0] != who else rng.uniform(0.0, 0.4))
    return segs, rng


def whisperx_json(segs, rng, ep):
    "WhisperX JSON with word timings; digit tokens unaligned, one speakerless segment, one failed alignment, one NaN"
    out = []
    for i, s in enumerate(segs):
        if s['speaker'] is None:                                           # alignment failed: words [], chars null
            out.append(dict(start=s['start'], end=s['end'], text=s['text'], words=[], chars=None)); continue
        toks = s['text'].split(' ')
        span, words, t = s['end'] - s['start'], [], s['start']
        per = span / max(1, sum(len(w) + 1 for w in toks))
        for w in toks:
            d = per * (len(w) + 1)
            wd = dict(word=w)
            if not re.search(r'\d', w):                                    # numbers are not in the alignment dictionary
                wd.update(start=round(t, 3), end=round(t + d * 0.85, 3), score=round(rng.uniform(0.45, 0.99), 3), speaker=s['speaker'])
            words.append(wd); t += d
        seg = dict(start=s['start'], end=s['end'], text=s['text'], words=words, speaker=s['speaker'])
        out.append(seg)
    # a segment with no overlapping diarization turn: no `speaker` key anywhere in it
    k = ep['nospeaker']
    while 'speaker' not in out[k] or 'speaker' not in out[k + 3]: k += 1
    del out[k]['speaker']
    for w in out[k]['words']: w.pop('speaker', None)
    # one word that alignment timed but diarization did not label
    next(w for w in out[k + 3]['words'] if 'start' in w).pop('speaker')
    if ep.get('nan') is not None:                                          # interpolation failed: bare NaN in the file
        out[ep['nan']]['start'] = float('nan'); out[ep['nan']]['end'] = float('nan')
        for w in out[ep['nan']]['words']:
            for key in ('start', 'end', 'score'): w.pop(key, None)
    return dict(segments=out, word_segments=[w for s in out for w in s['words']], language='en')


def ts(seconds):
    "WhisperX's VTT timestamp: MM:SS.mmm, hours only when at least one hour"
    ms = round(seconds * 1000.0)
    h, ms = divmod(ms, 3_600_000); m, ms = divmod(ms, 60_000); s, ms = divmod(ms, 1000)
    return (f'{h:02d}:' if h else '') + f'{m:02d}:{s:02d}.{ms:03d}'


def whisperx_vtt(segments):
    "WriteVTT: one cue per segment, `[SPEAKER_NN]: ` only where the segment has a speaker, no cue for words == []"
    out = ['WEBVTT\n']
    for s in segments:
        if s.get('words') == []: continue
        pre = f"[{s['speaker']}]: " if 'speaker' in s else ''
        out.append(f"{ts(s['start'])} --> {ts(s['end'])}\n{pre}{s['text'].strip()}\n")
    return '\n'.join(out) + '\n'


def make_podcast(out):
    d = out / 'podcast'; d.mkdir(parents=True, exist_ok=True)
    stats = {}
    for ep in EPISODES:
        segs, rng = episode_segments(ep)
        extra = dict(nospeaker=len(segs) // 2, nan=(len(segs) * 2 // 3) if ep['formats'] == ('json',) else None)
        res = whisperx_json(segs, rng, {**ep, **extra})
        if 'json' in ep['formats']:
            (d / f"{ep['file']}.json").write_text(json.dumps(res, ensure_ascii=False) + '\n', encoding='utf-8')
        if 'vtt' in ep['formats']:
            src = res['segments'] if 'json' in ep['formats'] else segs
            (d / f"{ep['file']}.vtt").write_text(whisperx_vtt(src), encoding='utf-8')
        segs = [s for s in segs if s['speaker']]
        host = sum(len(s['text']) for s in segs if s['speaker'] == 'SPEAKER_00')
        guest = sum(len(s['text']) for s in segs if s['speaker'] == 'SPEAKER_01')
        stats[ep['file']] = (len(segs), round(host / guest, 2))
    return stats


# ---------------------------------------------------------------------------------------------------------------
# Quotes (public domain: every author died before 1929; translations follow old public-domain editions)
# ---------------------------------------------------------------------------------------------------------------

QUOTES = """
William Shakespeare|To be, or not to be: that is the question.
William Shakespeare|This above all: to thine own self be true.
William Shakespeare|All the world's a stage, and all the men and women merely players.
William Shakespeare|The course of true love never did run smooth.
William Shakespeare|Some are born great, some achieve greatness, and some have greatness thrust upon 'em.
William Shakespeare|The fault, dear Brutus, is not in our stars, but in ourselves.
William Shakespeare|What's in a name? That which we call a rose by any other name would smell as sweet.
William Shakespeare|Cowards die many times before their deaths; the valiant never taste of death but once.
William Shakespeare|There is nothing either good or bad, but thinking makes it so.
William Shakespeare|Brevity is the soul of wit.
William Shakespeare|Love all, trust a few, do wrong to none.
William Shakespeare|We know what we are, but know not what we may be.
William Shakespeare|Our doubts are traitors, and make us lose the good we oft might win by fearing to attempt.
William Shakespeare|The better part of valour is discretion.
William Shakespeare|Be not afraid of greatness.
William Shakespeare|How far that little candle throws his beams! So shines a good deed in a weary world.
William Shakespeare|Neither a borrower nor a lender be.
William Shakespeare|Give every man thy ear, but few thy voice.
William Shakespeare|The lady doth protest too much, methinks.
William Shakespeare|All that glisters is not gold.
William Shakespeare|Love looks not with the eyes, but with the mind.
William Shakespeare|We are such stuff as dreams are made on, and our little life is rounded with a sleep.
William Shakespeare|There is a tide in the affairs of men, which, taken at the flood, leads on to fortune.
William Shakespeare|Uneasy lies the head that wears a crown.
William Shakespeare|Parting is such sweet sorrow.
William Shakespeare|Hell is empty and all the devils are here.
William Shakespeare|Life's but a walking shadow, a poor player that struts and frets his hour upon the stage.
William Shakespeare|They do not love that do not show their love.
William Shakespeare|Men at some time are masters of their fates.
William Shakespeare|Things won are done; joy's soul lies in the doing.
William Shakespeare|Wisely and slow; they stumble that run fast.
William Shakespeare|Modest doubt is called the beacon of the wise.
William Shakespeare|Conscience does make cowards of us all.
William Shakespeare|One touch of nature makes the whole world kin.
William Shakespeare|Sweet are the uses of adversity.
William Shakespeare|O brave new world, that has such people in't!
William Shakespeare|Let me not to the marriage of true minds admit impediments.
William Shakespeare|I wasted time, and now doth time waste me.
William Shakespeare|Better three hours too soon than a minute too late.
William Shakespeare|Have more than thou showest, speak less than thou knowest.
Oscar Wilde|I can resist everything except temptation.
Oscar Wilde|We are all in the gutter, but some of us are looking at the stars.
Oscar Wilde|Experience is the name every one gives to their mistakes.
Oscar Wilde|There is only one thing in the world worse than being talked about, and that is not being talked about.
Oscar Wilde|To love oneself is the beginning of a lifelong romance.
Oscar Wilde|The truth is rarely pure and never simple.
Oscar Wilde|A cynic is a man who knows the price of everything and the value of nothing.
Oscar Wilde|The only way to get rid of a temptation is to yield to it.
Oscar Wilde|Life is far too important a thing ever to talk seriously about it.
Oscar Wilde|I am not young enough to know everything.
Oscar Wilde|To live is the rarest thing in the world. Most people exist, that is all.
Oscar Wilde|The only thing to do with good advice is to pass it on. It is never of any use to oneself.
Oscar Wilde|Whenever people agree with me I always feel I must be wrong.
Oscar Wilde|Consistency is the last refuge of the unimaginative.
Oscar Wilde|Man is least himself when he talks in his own person. Give him a mask, and he will tell you the truth.
Oscar Wilde|Every saint has a past, and every sinner has a future.
Oscar Wilde|Moderation is a fatal thing. Nothing succeeds like excess.
Oscar Wilde|Questions are never indiscreet. Answers sometimes are.
Oscar Wilde|To get back one's youth one has merely to repeat one's follies.
Oscar Wilde|The books that the world calls immoral are books that show the world its own shame.
Oscar Wilde|There is no such thing as a moral or an immoral book. Books are well written, or badly written. That is all.
Oscar Wilde|Behind every exquisite thing that existed, there was something tragic.
Oscar Wilde|Children begin by loving their parents; as they grow older they judge them; sometimes they forgive them.
Oscar Wilde|Memory is the diary that we all carry about with us.
Oscar Wilde|Selfishness is not living as one wishes to live, it is asking others to live as one wishes to live.
Oscar Wilde|Disobedience, in the eyes of any one who has read history, is man's original virtue.
Oscar Wilde|The world is a stage, but the play is badly cast.
Oscar Wilde|Anybody can sympathise with the sufferings of a friend, but it requires a very fine nature to sympathise with a friend's success.
Oscar Wilde|Art is the most intense mode of individualism that the world has known.
Oscar Wilde|One should always be in love. That is the reason one should never marry.
Mark Twain|Always do right. This will gratify some people and astonish the rest.
Mark Twain|Man is the only animal that blushes. Or needs to.
Mark Twain|Courage is resistance to fear, mastery of fear—not absence of fear.
Mark Twain|Loyalty to the country always. Loyalty to the government when it deserves it.
Mark Twain|Let us endeavor so to live that when we come to die even the undertaker will be sorry.
Mark Twain|Truth is stranger than fiction, but it is because Fiction is obliged to stick to possibilities; Truth isn't.
Mark Twain|Few things are harder to put up with than the annoyance of a good example.
Mark Twain|When angry, count four; when very angry, swear.
Mark Twain|Clothes make the man. Naked people have little or no influence on society.
Mark Twain|Never put off till to-morrow what may be done day after to-morrow just as well.
Mark Twain|Whenever you find yourself on the side of the majority, it is time to pause and reflect.
Mark Twain|Everyone is a moon, and has a dark side which he never shows to anybody.
Mark Twain|Training is everything. The peach was once a bitter almond; cauliflower is nothing but cabbage with a college education.
Mark Twain|The report of my death was an exaggeration.
Mark Twain|Get your facts first, and then you can distort them as much as you please.
Mark Twain|Put all your eggs in the one basket and—WATCH THAT BASKET.
Mark Twain|Nothing so needs reforming as other people's habits.
Mark Twain|One of the most striking differences between a cat and a lie is that a cat has only nine lives.
Mark Twain|Why is it that we rejoice at a birth and grieve at a funeral? It is because we are not the person involved.
Mark Twain|There are several good protections against temptations, but the surest is cowardice.
Mark Twain|The timid man yearns for full value and asks a tenth. The bold man strikes for double value and compromises on par.
Mark Twain|The secret source of Humor itself is not joy but sorrow. There is no humor in heaven.
Mark Twain|Wrinkles should merely indicate where smiles have been.
Mark Twain|Each person is born to one possession which outvalues all his others—his last breath.
Mark Twain|The holy passion of Friendship is of so sweet and steady and loyal and enduring a nature that it will last through a whole lifetime, if not asked to lend money.
Mark Twain|Habit is habit, and not to be flung out of the window by any man, but coaxed down-stairs a step at a time.
Benjamin Franklin|Early to bed and early to rise, makes a man healthy, wealthy and wise.
Benjamin Franklin|Well done is better than well said.
Benjamin Franklin|Lost time is never found again.
Benjamin Franklin|Three may keep a secret, if two of them are dead.
Benjamin Franklin|Fish and visitors stink in three days.
Benjamin Franklin|God helps them that help themselves.
Benjamin Franklin|He that lies down with dogs, shall rise up with fleas.
Benjamin Franklin|A penny saved is two pence clear.
Benjamin Franklin|Little strokes fell great oaks.
Benjamin Franklin|There never was a good war, or a bad peace.
Benjamin Franklin|In this world nothing can be said to be certain, except death and taxes.
Benjamin Franklin|Glass, china, and reputation are easily cracked, and never well mended.
Benjamin Franklin|Love your neighbour; yet don't pull down your hedge.
Benjamin Franklin|If you would not be forgotten as soon as you are dead, either write things worth reading, or do things worth the writing.
Benjamin Franklin|Dost thou love life? Then do not squander time, for that's the stuff life is made of.
Benjamin Franklin|Diligence is the mother of good luck.
Benjamin Franklin|Sloth, like rust, consumes faster than labour wears, while the used key is always bright.
Benjamin Franklin|Want of care does us more damage than want of knowledge.
Benjamin Franklin|An ounce of prevention is worth a pound of cure.
Benjamin Franklin|He that can have patience can have what he will.
Benjamin Franklin|Half the truth is often a great lie.
Benjamin Franklin|A slip of the foot you may soon recover, but a slip of the tongue you may never get over.
Benjamin Franklin|Content makes poor men rich; discontent makes rich men poor.
Benjamin Franklin|Drive thy business, or it will drive thee.
Benjamin Franklin|Beware of little expenses; a small leak will sink a great ship.
Benjamin Franklin|Experience keeps a dear school, yet fools will learn in no other.
Benjamin Franklin|They that can give up essential liberty to obtain a little temporary safety deserve neither liberty nor safety.
Benjamin Franklin|At twenty years of age the will reigns; at thirty the wit; at forty the judgment.
Benjamin Franklin|Genius without education is like silver in the mine.
Seneca|While we are postponing, life speeds by.
Seneca|We are more often frightened than hurt; and we suffer more from imagination than from reality.
Seneca|It is not the man who has too little, but the man who craves more, that is poor.
Seneca|Hold every hour in your grasp.
Seneca|Associate with those who will make a better man of you.
Seneca|Men learn while they teach.
Seneca|Everywhere means nowhere.
Seneca|Begin at once to live, and count each separate day as a separate life.
Seneca|No man was ever wise by chance.
Seneca|It is quality, rather than quantity, that matters.
Seneca|If a man does not know to what port he is steering, no wind is favourable to him.
Marcus Aurelius|No longer talk at all about the kind of man that a good man ought to be, but be such.
Marcus Aurelius|Such as are thy habitual thoughts, such also will be the character of thy mind; for the soul is dyed by the thoughts.
Marcus Aurelius|Very little indeed is necessary for living a happy life.
Marcus Aurelius|The best way of avenging thyself is not to become like the wrong doer.
Marcus Aurelius|Loss is nothing else than change.
Marcus Aurelius|The universe is transformation: life is opinion.
Marcus Aurelius|Do every act of thy life as if it were the last.
Marcus Aurelius|Look within. Within is the fountain of good, and it will ever bubble up, if thou wilt ever dig.
Marcus Aurelius|How much more grievous are the consequences of anger than the causes of it.
Marcus Aurelius|Confine thyself to the present.
Marcus Aurelius|Men exist for the sake of one another. Teach them then or bear with them.
Marcus Aurelius|If it is not right, do not do it: if it is not true, do not say it.
Marcus Aurelius|Time is a sort of river of passing events, and strong is its current.
Confucius|Is it not pleasant to learn with a constant perseverance and application?
Confucius|When you know a thing, to hold that you know it; and when you do not know a thing, to allow that you do not know it; this is knowledge.
Confucius|Learning without thought is labour lost; thought without learning is perilous.
Confucius|What you do not want done to yourself, do not do to others.
Confucius|The superior man is modest in his speech, but exceeds in his actions.
Confucius|When we see men of worth, we should think of equalling them.
Confucius|The superior man is satisfied and composed; the mean man is always full of distress.
Confucius|Virtue is not left to stand alone. He who practises it will have neighbours.
Confucius|To see what is right and not to do it is want of courage.
Confucius|I am not concerned that I have no place, I am concerned how I may fit myself for one.
Confucius|When you have faults, do not fear to abandon them.
Confucius|The cautious seldom err.
Confucius|Hold faithfulness and sincerity as first principles.
Lao Tzu|The journey of a thousand li commences with a single step.
Lao Tzu|He who knows other men is discerning; he who knows himself is intelligent.
Lao Tzu|He who overcomes others is strong; he who overcomes himself is mighty.
Lao Tzu|He who is satisfied with his lot is rich.
Lao Tzu|There is no calamity greater than to be discontented with one's lot.
Lao Tzu|The softest thing in the world dashes against and overcomes the hardest.
Lao Tzu|The tree which fills the arms grew from the tiniest sprout.
Lao Tzu|Sincere words are not fine; fine words are not sincere.
Lao Tzu|The more that the sage expends for others, the more does he possess of his own.
Aristotle|One swallow does not make a summer, nor does one day.
Aristotle|The roots of education are bitter, but the fruit is sweet.
Aristotle|Hope is a waking dream.
Aristotle|What is a friend? A single soul dwelling in two bodies.
Aristotle|Wit is educated insolence.
Aristotle|The things we have to learn before we can do them, we learn by doing them.
Epictetus|Men are disturbed not by the things which happen, but by the opinions about the things.
Epictetus|First say to yourself what you would be; and then do what you have to do.
Epictetus|No great thing is produced suddenly, not even the grape or the fig.
Epictetus|If you would be a good reader, read; if a writer, write.
Epictetus|It is impossible for a man to learn what he thinks he already knows.
Epictetus|Only the educated are free.
Epictetus|Seek not that the things which happen should happen as you wish; but wish the things which happen to be as they are, and you will have a tranquil flow of life.
Epictetus|It is difficulties that show what men are.
Voltaire|The best is the enemy of the good.
Voltaire|We must cultivate our garden.
Voltaire|Common sense is not so common.
Voltaire|Doubt is not a pleasant condition, but certainty is absurd.
Voltaire|Work keeps at bay three great evils: boredom, vice, and need.
Voltaire|It is better to risk saving a guilty person than to condemn an innocent one.
Voltaire|The secret of being a bore is to tell everything.
Voltaire|Optimism is the madness of maintaining that everything is right when it is wrong.
Johann Wolfgang von Goethe|There is nothing more frightful than ignorance in action.
Johann Wolfgang von Goethe|Knowing is not enough; we must apply. Willing is not enough; we must do.
Johann Wolfgang von Goethe|He who does not know foreign languages does not know anything about his own.
Johann Wolfgang von Goethe|Talent develops in quiet places, character in the full current of human life.
Johann Wolfgang von Goethe|Everything has been thought of before, but the problem is to think of it again.
Johann Wolfgang von Goethe|One ought, every day at least, to hear a little song, read a good poem, see a fine picture, and, if it were possible, to speak a few reasonable words.
Johann Wolfgang von Goethe|As soon as you trust yourself, you will know how to live.
Charles Dickens|It was the best of times, it was the worst of times.
Charles Dickens|No one is useless in this world who lightens the burden of it to any one else.
Charles Dickens|Annual income twenty pounds, annual expenditure nineteen nineteen and six, result happiness.
Charles Dickens|Procrastination is the thief of time. Collar him!
Charles Dickens|Have a heart that never hardens, and a temper that never tires, and a touch that never hurts.
Charles Dickens|Reflect upon your present blessings, of which every man has many; not on your past misfortunes, of which all men have some.
Charles Dickens|There is nothing in the world so irresistibly contagious as laughter and good humour.
Charles Dickens|I will honour Christmas in my heart, and try to keep it all the year.
Charles Dickens|It is a far, far better thing that I do, than I have ever done.
Charles Dickens|Heaven knows we need never be ashamed of our tears.
Charles Dickens|Take nothing on its looks; take everything on evidence. There's no better rule.
Charles Dickens|Life is made of ever so many partings welded together.
Leo Tolstoy|Happy families are all alike; every unhappy family is unhappy in its own way.
Leo Tolstoy|The two most powerful warriors are patience and time.
Leo Tolstoy|There is no greatness where there is not simplicity, goodness, and truth.
Leo Tolstoy|Everything I understand, I understand only because I love.
Leo Tolstoy|Spring is the time of plans and projects.
Leo Tolstoy|Pure and complete sorrow is as impossible as pure and complete joy.
Fyodor Dostoevsky|The soul is healed by being with children.
Fyodor Dostoevsky|Man is a creature that can get accustomed to anything.
Fyodor Dostoevsky|Beauty will save the world.
Fyodor Dostoevsky|Above all, don't lie to yourself.
Fyodor Dostoevsky|Pain and suffering are always inevitable for a large intelligence and a deep heart.
Fyodor Dostoevsky|Taking a new step, uttering a new word, is what people fear most.
Fyodor Dostoevsky|Love in action is a harsh and dreadful thing compared with love in dreams.
Abraham Lincoln|A house divided against itself cannot stand.
Abraham Lincoln|With malice toward none, with charity for all.
Abraham Lincoln|Government of the people, by the people, for the people, shall not perish from the earth.
Abraham Lincoln|Let us have faith that right makes might.
Abraham Lincoln|The dogmas of the quiet past are inadequate to the stormy present.
Abraham Lincoln|We are not enemies, but friends. We must not be enemies.
Abraham Lincoln|Those who deny freedom to others deserve it not for themselves.
Abraham Lincoln|Determine that the thing can and shall be done, and then we shall find the way.
Ralph Waldo Emerson|Trust thyself: every heart vibrates to that iron string.
Ralph Waldo Emerson|A foolish consistency is the hobgoblin of little minds.
Ralph Waldo Emerson|Nothing great was ever achieved without enthusiasm.
Ralph Waldo Emerson|The only way to have a friend is to be one.
Ralph Waldo Emerson|Hitch your wagon to a star.
Ralph Waldo Emerson|Whoso would be a man must be a nonconformist.
Ralph Waldo Emerson|To be great is to be misunderstood.
Ralph Waldo Emerson|The reward of a thing well done, is to have done it.
Ralph Waldo Emerson|Finish each day and be done with it.
Ralph Waldo Emerson|Every artist was first an amateur.
Ralph Waldo Emerson|The first wealth is health.
Ralph Waldo Emerson|Write it on your heart that every day is the best day in the year.
Ralph Waldo Emerson|The years teach much which the days never know.
Ralph Waldo Emerson|Can anything be so elegant as to have few wants, and to serve them one's self?
Ralph Waldo Emerson|A friend is a person with whom I may be sincere.
Ralph Waldo Emerson|Insist on yourself; never imitate.
Henry David Thoreau|The mass of men lead lives of quiet desperation.
Henry David Thoreau|If one advances confidently in the direction of his dreams, he will meet with a success unexpected in common hours.
Henry David Thoreau|Our life is frittered away by detail. Simplify, simplify.
Henry David Thoreau|I went to the woods because I wished to live deliberately, to front only the essential facts of life.
Henry David Thoreau|If a man does not keep pace with his companions, perhaps it is because he hears a different drummer.
Henry David Thoreau|Rather than love, than money, than fame, give me truth.
Henry David Thoreau|Beware of all enterprises that require new clothes.
Henry David Thoreau|A man is rich in proportion to the number of things which he can afford to let alone.
Henry David Thoreau|In wildness is the preservation of the world.
Henry David Thoreau|Methinks that the moment my legs begin to move, my thoughts begin to flow.
Henry David Thoreau|It is not enough to be industrious; so are the ants. What are you industrious about?
Henry David Thoreau|Time is but the stream I go a-fishing in.
Henry David Thoreau|There is no remedy for love but to love more.
Henry David Thoreau|Heaven is under our feet as well as over our heads.
Henry David Thoreau|We need the tonic of wildness.
Jane Austen|It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife.
Jane Austen|There is no charm equal to tenderness of heart.
Jane Austen|I declare after all there is no enjoyment like reading!
Jane Austen|One half of the world cannot understand the pleasures of the other.
Jane Austen|Vanity and pride are different things, though the words are often used synonymously.
Jane Austen|Think only of the past as its remembrance gives you pleasure.
Jane Austen|There is nothing I would not do for those who are really my friends.
Jane Austen|Angry people are not always wise.
Jane Austen|I was in the middle before I knew that I had begun.
Jane Austen|My idea of good company is the company of clever, well-informed people, who have a great deal of conversation.
Jane Austen|Silly things do cease to be silly if they are done by sensible people in an impudent way.
Jane Austen|Know your own happiness.
Jane Austen|We have all a better guide in ourselves, if we would attend to it, than any other person can be.
Jane Austen|The person, be it gentleman or lady, who has not pleasure in a good novel, must be intolerably stupid.
Alexander Pope|To err is human, to forgive divine.
Alexander Pope|A little learning is a dangerous thing.
Alexander Pope|Hope springs eternal in the human breast.
Alexander Pope|Fools rush in where angels fear to tread.
Alexander Pope|Blessed is the man who expects nothing, for he shall never be disappointed.
Alexander Pope|Know then thyself, presume not God to scan; the proper study of mankind is man.
Samuel Johnson|When a man is tired of London, he is tired of life.
Samuel Johnson|Great works are performed not by strength but by perseverance.
Samuel Johnson|Knowledge is of two kinds. We know a subject ourselves, or we know where we can find information upon it.
Samuel Johnson|Hope is itself a species of happiness, and, perhaps, the chief happiness which this world affords.
Samuel Johnson|What is written without effort is in general read without pleasure.
Samuel Johnson|Curiosity is one of the permanent and certain characteristics of a vigorous intellect.
Walt Whitman|Do I contradict myself? Very well then I contradict myself, (I am large, I contain multitudes.)
Walt Whitman|Resist much, obey little.
Walt Whitman|I exist as I am, that is enough.
Walt Whitman|Afoot and light-hearted I take to the open road.
Walt Whitman|Re-examine all you have been told at school or church or in any book, dismiss whatever insults your own soul.
Walt Whitman|The strongest and sweetest songs yet remain to be sung.
Henry Wadsworth Longfellow|Into each life some rain must fall.
Henry Wadsworth Longfellow|Let us, then, be up and doing, with a heart for any fate.
Henry Wadsworth Longfellow|The heights by great men reached and kept were not attained by sudden flight, but they, while their companions slept, were toiling upward in the night.
Henry Wadsworth Longfellow|Music is the universal language of mankind.
Henry Wadsworth Longfellow|If we could read the secret history of our enemies, we should find in each man's life sorrow and suffering enough to disarm all hostility.
Leonardo da Vinci|Iron rusts from disuse; stagnant water loses its purity; even so does inaction sap the vigour of the mind.
Leonardo da Vinci|As a well-spent day brings happy sleep, so life well used brings happy death.
Plato|The beginning is the most important part of the work.
Plato|Wonder is the feeling of a philosopher, and philosophy begins in wonder.
Socrates|The unexamined life is not worth living.
Heraclitus|You cannot step twice into the same river.
Heraclitus|A man's character is his fate.
Sun Tzu|If you know the enemy and know yourself, you need not fear the result of a hundred battles.
Victor Hugo|The supreme happiness of life is the conviction that we are loved.
Victor Hugo|Music expresses that which cannot be said and on which it is impossible to be silent.
Louisa May Alcott|I'm not afraid of storms, for I'm learning how to sail my ship.
Louisa May Alcott|Love is a great beautifier.
Charlotte Brontë|I am no bird; and no net ensnares me: I am a free human being with an independent will.
Charlotte Brontë|Life appears to me too short to be spent in nursing animosity or registering wrongs.
Emily Brontë|Whatever our souls are made of, his and mine are the same.
George Eliot|What do we live for, if it is not to make life less difficult to each other?
George Eliot|Blessed is the man who, having nothing to say, abstains from giving us wordy evidence of the fact.
George Eliot|Our deeds determine us, as much as we determine our deeds.
Lewis Carroll|Why, sometimes I've believed as many as six impossible things before breakfast.
Lewis Carroll|It's no use going back to yesterday, because I was a different person then.
Lewis Carroll|Begin at the beginning, and go on till you come to the end: then stop.
Lewis Carroll|Who in the world am I? Ah, that's the great puzzle!
Robert Louis Stevenson|To travel hopefully is a better thing than to arrive.
Robert Louis Stevenson|I travel not to go anywhere, but to go. I travel for travel's sake. The great affair is to move.
John Keats|A thing of beauty is a joy for ever.
John Keats|Nothing ever becomes real till it is experienced.
Percy Bysshe Shelley|If Winter comes, can Spring be far behind?
William Blake|The road of excess leads to the palace of wisdom.
William Blake|To see a World in a Grain of Sand and a Heaven in a Wild Flower.
William Blake|No bird soars too high, if he soars with his own wings.
William Blake|Great things are done when men and mountains meet.
Lord Byron|Adversity is the first path to truth.
William Wordsworth|The child is father of the man.
William Wordsworth|Fill your paper with the breathings of your heart.
Robert Burns|The best laid schemes o' mice an' men gang aft agley.
Francis Bacon|Some books are to be tasted, others to be swallowed, and some few to be chewed and digested.
Francis Bacon|Reading maketh a full man; conference a ready man; and writing an exact man.
Francis Bacon|A wise man will make more opportunities than he finds.
Francis Bacon|Hope is a good breakfast, but it is a bad supper.
Francis Bacon|Nature, to be commanded, must be obeyed.
Miguel de Cervantes|The proof of the pudding is in the eating.
Miguel de Cervantes|Time ripens all things; no man is born wise.
Michel de Montaigne|The greatest thing in the world is to know how to be one's own.
Michel de Montaigne|Every man bears the whole form of human condition.
Michel de Montaigne|He who fears he shall suffer, already suffers what he fears.
François de La Rochefoucauld|We all have strength enough to endure the misfortunes of others.
François de La Rochefoucauld|Hypocrisy is the homage vice pays to virtue.
Blaise Pascal|I have made this letter longer than usual, only because I have not had the time to make it shorter.
Blaise Pascal|The heart has its reasons, which reason does not know.
Cicero|While there's life, there's hope.
Cicero|The life of the dead is placed in the memory of the living.
Virgil|They can because they think they can.
Virgil|Fortune favours the bold.
Horace|Seize the day, put no trust in the morrow.
Horace|He who has begun has half done. Dare to be wise.
Publilius Syrus|A rolling stone gathers no moss.
Friedrich Nietzsche|What does not destroy me, makes me stronger.
Friedrich Nietzsche|Without music, life would be a mistake.
Friedrich Nietzsche|One must still have chaos in oneself to be able to give birth to a dancing star.
Theodore Roosevelt|Speak softly and carry a big stick; you will go far.
Theodore Roosevelt|It is not the critic who counts; not the man who points out how the strong man stumbles.
Theodore Roosevelt|Far and away the best prize that life offers is the chance to work hard at work worth doing.
Frederick Douglass|If there is no struggle, there is no progress.
Jonathan Swift|May you live all the days of your life.
Jonathan Swift|Vision is the art of seeing things invisible.
Thomas Jefferson|I cannot live without books.
Thomas Jefferson|Honesty is the first chapter in the book of wisdom.
George Washington|It is better to offer no excuse than a bad one.
Thomas Paine|These are the times that try men's souls.
Edgar Allan Poe|All that we see or seem is but a dream within a dream.
Herman Melville|It is better to fail in originality than to succeed in imitation.
Washington Irving|A sharp tongue is the only edged tool that grows keener with constant use.
Alfred Tennyson|'Tis better to have loved and lost than never to have loved at all.
Alfred Tennyson|To strive, to seek, to find, and not to yield.
Robert Browning|Ah, but a man's reach should exceed his grasp, or what's a heaven for?
Robert Browning|Grow old along with me! The best is yet to be.
Elizabeth Barrett Browning|How do I love thee? Let me count the ways.
Samuel Taylor Coleridge|Water, water, every where, nor any drop to drink.
John Milton|The mind is its own place, and in itself can make a Heaven of Hell, a Hell of Heaven.
John Milton|They also serve who only stand and wait.
John Donne|No man is an island, entire of itself.
Søren Kierkegaard|Life can only be understood backwards; but it must be lived forwards.
Hippocrates|Life is short, the art long.
"""


def make_quotes(out):
    d = out / 'quotes'; d.mkdir(parents=True, exist_ok=True)
    rows = [dict(author=a, quote=q) for a, q in (l.split('|', 1) for l in QUOTES.strip().split('\n'))]
    assert len({r['quote'] for r in rows}) == len(rows), 'duplicate quote'
    with open(d / 'quotes.jsonl', 'w', encoding='utf-8') as f:
        for r in rows: f.write(json.dumps(r, ensure_ascii=False) + '\n')
    return len(rows)


# ---------------------------------------------------------------------------------------------------------------
# READMEs (written by this script too, so the folder is reproduced whole)
# ---------------------------------------------------------------------------------------------------------------

README = """# Sample data

Small, invented data sets the tutorials run on (no download needed). Every person, message and episode here is made up.
All of it is written by `tests/make_sample_data.py` from fixed seeds: rerun it and you get the same bytes.

## `messenger/`: a Facebook Messenger export

The folder layout of a 2024/25 "Download your information" export (JSON):
`your_facebook_activity/messages/{inbox,archived_threads}/<slug>_<id>/message_N.json`, plus a non-thread file
(`autofill_information.json`). The account owner is **Sam Rivera**, who texts in lowercase bursts without end
punctuation ("lol", "ngl", "dude"), and talks about running, cooking and climbing.

- 5 one-to-one threads, one group chat ("trail rats 🏃", with group events: created, added, named, left), a thread with a
  deleted account ("Facebook user"), and an older archived thread. The longest thread is split in two files:
  `message_1.json` holds the newest messages, and every file lists its messages newest first.
- Strings are written the way Meta writes them: every UTF-8 byte as its own `\\u00XX` escape (`Zoë` is
  `Zo\\u00c3\\u00ab`). Fix with `s.encode('latin-1').decode('utf-8')`.
- Photos, gifs, stickers, shares, calls and missed calls, unsent messages, reactions, `"X sent an attachment."`,
  `"Reacted 😂 to your message "` (trailing space included), one empty message. The media files themselves are not
  included; their `uri`s point nowhere.
- Timestamps are UTC epoch milliseconds from 2023 to 2024, with gaps of hours to days between conversations.

## `podcast/`: WhisperX transcripts

"The Long Run with Maya Chen": five interviews as WhisperX output. `SPEAKER_00` is the host, who speaks first
("This is my conversation with ...") and asks the questions; the guest is `SPEAKER_01` and answers at length.

- `.vtt` (`MM:SS.mmm --> MM:SS.mmm`, one cue per segment, `[SPEAKER_NN]: ` prefix) and `.json` (segments with words,
  `word_segments`, `language`). Episode 2 comes in both formats; 1, 4, 5 as VTT only; 3 as JSON only.
- The JSON files carry WhisperX's rough edges: words without timings (numbers), a segment without a `speaker`, a word
  without a speaker, a failed alignment (`" ♪♪"`, `"words": []`, `"chars": null`, absent from the VTT), and in
  episode 3 a segment whose times are the bare token `NaN` (Python's `json` reads it; strict parsers don't).
- **Episode 4 (`ep04_kenji_mori.vtt`) has broken diarisation**: a few minutes in, the labels flip, so the "host" label
  talks far more than the guest (host/guest characters 2.6 against about 0.3 for the others). A host/guest ratio
  filter (drop episodes where the ratio is above 1) should catch it.

## `quotes/`: public-domain quotes

`quotes.jsonl`: one `{"author": ..., "quote": ...}` per line, short sayings by authors who died before 1929. See
`quotes/README.md`.

## Using your own data

Each tutorial has one cell that points at these folders; point it at your own export instead.
"""

QUOTES_README = """# Quotes

`quotes.jsonl` holds short quotations, one JSON object per line: `{"author": "...", "quote": "..."}` (UTF-8).

**Source and licence.** The list was compiled for this project from well-known sayings whose authors died before 1929
(Shakespeare, Franklin, Wilde, Twain, Austen, Emerson, Thoreau, Seneca, Marcus Aurelius, Confucius, ...). The original
works are in the public domain. Sayings from Greek, Latin, Chinese, French, German and Russian follow the wording of old
English translations that are themselves public domain (e.g. George Long's Marcus Aurelius and Epictetus, Richard
Gummere's Seneca, James Legge's Confucius and Lao Tzu), or the standard short English rendering of the line. No quote
collection or data set was copied. Quotes that are commonly misattributed (for example "Be yourself; everyone else is
already taken", or Aristotle's "We are what we repeatedly do", which is Will Durant's) were left out on purpose.

If you find a wrong attribution, remove the line in `tests/make_sample_data.py` and rerun it.
"""


def make_readmes(out):
    (out / 'README.md').write_text(README, encoding='utf-8')
    (out / 'quotes' / 'README.md').write_text(QUOTES_README, encoding='utf-8')


def main(out=ROOT):
    out = Path(out)
    for sub in ('messenger', 'podcast', 'quotes'):
        if (out / sub).exists(): shutil.rmtree(out / sub)
    pairs, n_msgs = make_messenger(out)
    eps = make_podcast(out)
    n_quotes = make_quotes(out)
    make_readmes(out)
    print(f'messenger: {n_msgs} messages, {pairs} Sam bursts answering a friend burst')
    for k, (n, r) in eps.items(): print(f'podcast {k}: {n} segments, host/guest chars {r}')
    print(f'quotes: {n_quotes}')


if __name__ == '__main__': main(*sys.argv[1:])
